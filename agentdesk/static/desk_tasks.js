// kck agent desk: the tasks panel (callbacks, voicemail, a matter without a call) and the
// callback's window at wrap-up. The list is read on load, after every action and every 20 s.
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var S = boot.strings;
  var $ = function (id) { return document.getElementById(id); };
  var REFRESH_MS = 20000;
  if (!$("tasks")) { return; }  // a desk without tasks: "callback needed" is only stored

  var call = window.__kck.api;  // desk.js: JSON with the session's CSRF token
  function say(text, isError) {
    var el = $("task-message");
    el.textContent = text || "";
    el.classList.toggle("error", !!isError);
  }
  function button(label, cls, onClick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = cls; b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }
  function span(cls, text) {
    var s = document.createElement("span"); s.className = cls; s.textContent = text; return s;
  }
  function done(r) {
    if (!r.ok) { say(r.data.message || "", true); } else { say(r.data.message || "", false); }
    refresh();
  }

  // the message's length once the browser has read it (shown by the control; kept for tests)
  $("task-audio").addEventListener("loadedmetadata", function () {
    this.dataset.seconds = String(Math.round(this.duration));
  });

  var outcomes = [];
  function actions(task) {
    var box = document.createElement("div");
    box.className = "task-actions";
    var url = "/api/desk/tasks/" + task.id;
    if (task.kind === "matter") {
      // the matter's screen-pop again (after a call took the screen)
      box.appendChild(button(S["task.show_ticket"], "task-show", function () { popMatter(task, true); }));
      box.appendChild(button(S["task.done"], "task-done", function () { matterDone(task.id); }));
    }
    if (task.kind === "voicemail" && task.state === "open") {
      box.appendChild(button(S["task.claim"], "task-claim", function () { call("POST", url + "/claim").then(done); }));
    }
    if (task.kind === "voicemail" && task.state === "claimed" && task.claimed_by === boot.agent) {
      box.appendChild(button(S["task.play"], "task-play", function () {
        var audio = $("task-audio");
        delete audio.dataset.seconds;
        audio.src = task.audio;
        audio.hidden = false;
        audio.dataset.taskId = String(task.id);
        audio.play().catch(function () { /* the agent presses play on the control */ });
      }));
      box.appendChild(button(S["task.call_back"], "task-call-back", function () {
        call("POST", url + "/callback", {}).then(done);
      }));
      var select = document.createElement("select");
      select.className = "task-outcome";
      select.setAttribute("aria-label", S["task.outcome"]);
      outcomes.forEach(function (o) {
        var opt = document.createElement("option"); opt.value = o.code; opt.textContent = o.text; select.appendChild(opt);
      });
      box.appendChild(select);
      box.appendChild(button(S["task.close"], "task-close", function () {
        call("POST", url + "/close", { outcome: select.value }).then(function (r) {
          if (r.ok && $("task-audio").dataset.taskId === String(task.id)) {
            $("task-audio").pause(); $("task-audio").hidden = true; $("task-audio").removeAttribute("src");
          }
          done(r);
        });
      }));
    }
    return box;
  }
  // ---- the matter without a call: the same screen-pop as a call's (desk.js shows it) ---------
  function poppedMatter() {
    var p = window.__kck.currentPop();
    return p && p.kind === "matter" ? p : null;
  }
  function popMatter(task, again) {
    var p = poppedMatter();
    if (p && p.matter.id === task.id && !again) { return; }
    var current = window.__kck.currentPop();
    if (current && current.kind !== "matter") { return; }  // a call is on the screen: it stays
    call("GET", "/api/desk/matter/pop").then(function (r) {
      if (r.ok) { window.__kck.showPop(r.data); }
    });
  }
  function matterDone(id) {
    call("POST", "/api/desk/matter/done", { id: id }).then(done);
  }
  if ($("matter-box")) {
    $("matter-done").addEventListener("click", function () {
      var p = poppedMatter(); if (p) { matterDone(p.matter.id); }
    });
    $("matter-forward").addEventListener("click", function () {
      var p = poppedMatter(); if (!p) { return; }
      var units = [];
      document.querySelectorAll("#f-units input:checked").forEach(function (b) { units.push(b.value); });
      $("matter-forward").disabled = true;
      call("POST", "/api/desk/matter/forward", { id: p.matter.id, units: units }).then(function (r) {
        $("matter-forward").disabled = false;
        var message = r.data.message || "";
        if (r.ok) {  // the matter's pop again: its units and state as they are now
          call("GET", "/api/desk/matter/pop").then(function (again) {
            if (again.ok) { window.__kck.clearPop(); window.__kck.showPop(again.data); }
            var el = $("matter-message"); el.textContent = message; el.classList.remove("error");
          });
          return;
        }
        var el = $("matter-message"); el.textContent = message; el.classList.add("error");
      });
    });
  }

  function show(tasks) {
    var list = $("task-list");
    list.textContent = "";
    $("tasks-none").hidden = tasks.length > 0;
    tasks.forEach(function (task) {
      var li = document.createElement("li");
      li.dataset.taskId = String(task.id);
      li.dataset.kind = task.kind;
      li.dataset.state = task.state;
      li.appendChild(span("task-kind", task.kind_text));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(span("task-number", task.number_text));
      li.appendChild(span("task-state", task.state_text));
      if (task.window_from || task.window_until) {
        li.appendChild(document.createElement("br"));
        li.appendChild(span("task-window", S["task.window"] + ": " + (task.window_from || "…") + " – " + (task.window_until || "…")));
      }
      if (task.note) {
        li.appendChild(document.createElement("br"));
        li.appendChild(span("task-note muted", task.note));
      }
      li.appendChild(actions(task));
      list.appendChild(li);
    });
  }
  function refresh() {
    return call("GET", "/api/desk/tasks").then(function (r) {
      if (!r.ok) { return; }
      outcomes = r.data.outcomes || [];
      var listed = r.data.tasks || [];
      show(listed);
      var held = listed.filter(function (task) { return task.kind === "matter"; })[0];
      if (held) { popMatter(held, false); }
      else if (poppedMatter()) { window.__kck.clearPop(); }
    });
  }

  // "Callback needed" at wrap-up shows the window and note fields
  var wish = $("callback-wish");
  function chosenCallback() {
    var chosen = document.querySelector("#wrapup-form input[name=outcome]:checked");
    return !!chosen && chosen.value === "callback_needed";
  }
  document.querySelectorAll("#wrapup-form input[name=outcome]").forEach(function (r) {
    r.addEventListener("change", function () { wish.hidden = !chosenCallback(); });
  });

  window.__kckTasks = {
    // desk.js calls it once the wrap-up made the callback: the fields are done with
    refresh: function () {
      $("cb-from").value = ""; $("cb-until").value = ""; $("cb-note").value = "";
      wish.hidden = true;
      return refresh();
    },
    reload: refresh,
    wish: function () {
      if (!chosenCallback()) { return null; }
      return { from: $("cb-from").value, until: $("cb-until").value, note: $("cb-note").value };
    }
  };
  refresh();
  window.setInterval(function () { if (!document.hidden) { refresh(); } }, REFRESH_MS);
})();
