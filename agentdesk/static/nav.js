// The language switch of the top bar and the sign-in page (pages without their own script): a cookie, then reload.
"use strict";
(function () {
  const link = document.getElementById("lang-switch");
  if (!link) return;
  link.addEventListener("click", function (e) {
    e.preventDefault();
    const secure = location.protocol === "https:" ? "; secure" : "";
    document.cookie = "kck_lang=" + this.dataset.lang + "; path=/; max-age=31536000; samesite=lax" + secure;
    location.reload();
  });
})();
