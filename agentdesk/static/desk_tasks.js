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
      // the matter on the desk's screen: the ticket as the lookup shows it, and the KB search
      box.appendChild(button(S["task.show_ticket"], "task-show", function () {
        $("lookup-number").value = task.ref;
        $("lookup-form").requestSubmit();
        $("kb-search").value = task.category_text;
        $("kb-search").dispatchEvent(new Event("input"));
      }));
      box.appendChild(button(S["task.done"], "task-done", function () {
        call("POST", "/api/desk/matter/done", { id: task.id }).then(done);
      }));
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
      show(r.data.tasks || []);
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
