// The transcription queue: retry a failed transcription (the recording waits again).
"use strict";
(function () {
  var csrf = document.body.dataset.csrf;  // no inline script: the page's policy forbids it
  document.getElementById("failed").addEventListener("click", function (e) {
    var button = e.target.closest("button.retry");
    if (!button) { return; }
    var row = button.closest("tr");
    fetch("/api/recordings/transcription/" + encodeURIComponent(row.dataset.call) + "/retry", {
      method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf}
    }).then(function (r) {
      if (r.status === 200) {
        document.getElementById("message").textContent = button.dataset.retried;
        row.remove();
      }
    });
  });
})();
