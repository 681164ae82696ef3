// The menu editor: a click on a problem's file:line selects that line in the file's textarea.
"use strict";
document.querySelectorAll(".menu-problems li[data-line]").forEach((item) => {
  const where = item.querySelector(".where");
  const line = Number(item.dataset.line);
  const area = document.querySelector(`textarea[data-file="${CSS.escape(item.dataset.file)}"]`);
  if (!where || !area || !line) return;
  where.addEventListener("click", () => {
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const height = area.scrollHeight / Math.max(lines.length, 1);
    area.scrollTop = Math.max(0, (line - 3) * height);
  });
});
