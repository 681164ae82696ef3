// The recordings page: play or download a recording after giving a reason (an audited access).
"use strict";
(function () {
  var csrf = document.body.dataset.csrf;  // no inline script: the page's policy forbids it
  document.getElementById("recordings").addEventListener("click", function (e) {
    var button = e.target.closest("button");
    if (!button || !button.dataset.action) { return; }
    var id = button.closest("tr").dataset.id;
    var reason = document.getElementById("reason").value;
    fetch("/api/recordings/" + id + "/access", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({action: button.dataset.action, reason: reason})
    }).then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
      .then(function (got) {
        var message = document.getElementById("message");
        if (got[0] !== 200) { message.textContent = got[1].message || got[1].error; return; }
        message.textContent = "";
        if (got[1].action === "download") { window.location = got[1].url; return; }
        var player = document.getElementById("player");
        player.src = got[1].url;
        player.play();
      });
  });
})();
