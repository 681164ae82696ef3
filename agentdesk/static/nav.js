// The top bar's language switch (pages without their own script): a cookie, then reload.
"use strict";
(function () {
  const link = document.getElementById("lang-switch");
  if (!link) return;
  link.addEventListener("click", function (e) {
    e.preventDefault();
    document.cookie = "kck_lang=" + this.dataset.lang + "; path=/; max-age=31536000; samesite=lax";
    location.reload();
  });
})();
