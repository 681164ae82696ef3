// kck agent desk: state buttons, the screen-pop over WebSocket (reconnecting), ticket form, wrap-up.
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var S = boot.strings;
  var $ = function (id) { return document.getElementById(id); };
  // since/until/callStartedAt are on performance.now()'s scale (see serverClock)
  var state = { state: "logged_out", since: performance.now(), until: null, reason: null };
  var pop = null;            // the call on screen
  var callStartedAt = null;  // when the call was answered
  var savedTickets = [];     // numbers saved for the call on screen
  window.__kck = { popShown: {}, socket: null, pongs: {} };

  function t(key, params) {
    var text = S[key] || key;
    Object.keys(params || {}).forEach(function (k) { text = text.replace("{" + k + "}", params[k]); });
    return text;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s % 60);
  }
  function banner(text, detail) {
    var b = $("banner");
    b.title = detail || "";  // codes, the router's own words: a tooltip only
    if (text) { b.textContent = text; b.hidden = false; } else { b.hidden = true; b.textContent = ""; }
  }
  // a message line: green when it reports what was done, red and announced when it is an error
  function say(el, text, isError) {
    el.textContent = text || "";
    el.classList.toggle("error", !!isError);
    if (isError) { el.setAttribute("role", "alert"); } else { el.removeAttribute("role"); }
  }
  // Notes live in this tab's sessionStorage during the call only (so a reload keeps them); they
  // go when the call's pop goes, at sign-out, and nothing of a call is ever in localStorage.
  var NOTES_PREFIX = "kck-notes-";
  function forget(store, keep) {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf("kck-") === 0 && key !== keep) { store.removeItem(key); }
    }
  }
  function forgetCalls(keep) { forget(window.localStorage, null); forget(window.sessionStorage, keep); }
  forget(window.localStorage, null);  // what an earlier version left behind
  function api(method, url, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      opts.headers["X-CSRF-Token"] = boot.csrf;
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) { location.href = "/login"; }
      return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }
  window.__kck.api = api;  // desk_tasks.js calls the same way

  // ---- agent state -------------------------------------------------------------------------
  // Times are the router's: `since` and `until` (when the router's timer ends wrap-up) are read
  // on the server's clock, and every state message carries `server_now`, that clock's reading
  // when it was sent. Only differences of two server readings are used: at receipt they become
  // points on performance.now(), which is monotonic, and the desk counts against that. Not the
  // browser's Date: a desk PC's clock may be minutes off or be set while counting, and `kck demo`
  // runs the router on a shifted clock. The error is the message's transit time (milliseconds).
  // After a reload the state on load carries the same deadline, so the countdown goes on where
  // it was. The countdown never changes the state: at 00:00 the desk waits for the router's
  // state change (its timer, not the browser's, ends wrap-up).
  function serverClock(s) {
    var sent = Date.parse(s.server_now) || Date.now(), received = performance.now();
    return function (iso) { var at = Date.parse(iso); return isNaN(at) ? null : received + (at - sent); };
  }
  function showState(s) {
    var previous = state.state;
    var at = serverClock(s);
    var since = at(s.since);
    state = { state: s.state, reason: s.reason, since: since === null ? performance.now() : since,
              until: s.until ? at(s.until) : null };
    var badge = $("state-badge");
    badge.dataset.state = s.state;
    badge.textContent = t("state." + s.state) + (s.reason ? " — " + t("reason." + s.reason) : "");
    $("btn-available").disabled = s.state === "available" || s.state === "offered" || s.state === "on_call";
    $("btn-pause").disabled = s.state === "offered" || s.state === "on_call";
    $("btn-transfer").disabled = s.state !== "on_call";
    if (s.state === "on_call" && previous !== "on_call") { callStartedAt = state.since; }
    if (s.state === "wrap_up") {
      $("timer-label").textContent = S["pop.wrap_timer"];
      $("wrapup-form").hidden = !pop;
      if (pop && previous !== "wrap_up") {
        var focus = document.querySelector("#wrapup-form input:checked") || document.querySelector("#wrapup-form input");
        if (focus && !document.activeElement.matches("input[type=text], textarea")) { focus.focus(); }
      }
    }
    if ((s.state === "available" || s.state === "paused" || s.state === "logged_out") &&
        (previous === "wrap_up" || previous === "offered" || previous === "on_call")) {
      clearPop();
      if (previous === "offered" && s.reason === "no_answer") { banner(t("reason.no_answer")); }
    }
    tick();
  }
  function setState(newState) {
    var body = { state: newState };
    if (newState === "paused") { body.reason = $("pause-reason").value; }
    return api("POST", "/api/desk/state", body).then(function (r) {
      if (r.ok) { showState(r.data); banner(""); } else { banner(r.data.message || r.status, r.data.detail); }
    });
  }
  // Leaving wrap-up before an outcome is saved asks first: choose one, or end without it.
  var pendingState = null;
  function leaveWrapUp(newState) {
    var saved = $("wrapup-message").textContent !== "";
    if (state.state === "wrap_up" && pop && !saved) {
      pendingState = newState;
      $("outcome-prompt").hidden = false;
      var first = document.querySelector("#wrapup-form input[name=outcome]");
      if (first) { first.focus(); }
      return;
    }
    setState(newState);
  }
  $("btn-available").addEventListener("click", function () { leaveWrapUp("available"); });
  $("btn-pause").addEventListener("click", function () { leaveWrapUp("paused"); });
  $("outcome-skip").addEventListener("click", function () {
    $("outcome-prompt").hidden = true;
    if (pendingState) { setState(pendingState); pendingState = null; }
  });

  function tick() {
    var now = performance.now();
    $("state-timer").textContent = clock(now - state.since);
    // whole seconds left, rounded up: 00:00 only once the deadline has passed
    var left = state.state === "wrap_up" && state.until !== null ? Math.max(0, Math.ceil((state.until - now) / 1000)) : null;
    var countdown = $("wrapup-countdown");
    countdown.hidden = left === null;
    if (left === null) { countdown.textContent = ""; delete countdown.dataset.secondsLeft; }
    else {
      countdown.textContent = t("desk.wrap_up_left", { time: clock(left * 1000) });
      countdown.dataset.secondsLeft = String(left);
    }
    if (pop) {
      if (state.state === "wrap_up") {
        $("call-timer").textContent = left !== null ? "−" + clock(left * 1000) : clock(now - state.since);
      } else if (state.state === "on_call" && callStartedAt !== null) {
        $("call-timer").textContent = clock(now - callStartedAt);
      }
    }
  }
  setInterval(tick, 500);

  // ---- screen-pop --------------------------------------------------------------------------
  function rows(table, items, cells, data) {
    var body = table.querySelector("tbody");
    body.textContent = "";
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      var attrs = data ? data(item) : {};
      Object.keys(attrs).forEach(function (k) { tr.dataset[k] = attrs[k]; });
      cells(item).forEach(function (text) {
        var td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.hidden = items.length === 0;
  }
  // The server rings the agent's phone once the desk says the pop is in the page (or after
  // half a second at the latest): sent right after the DOM is updated, also from a background
  // tab (where animation frames never come).
  function popShown(p) {
    var ws = window.__kck.socket;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "shown", offer_id: p.offer_id }));
    }
  }
  // the caller gives card or personal data: the agent pauses the recording, then resumes it
  var recordingPaused = false;
  $("recording-pause").addEventListener("click", function () {
    if (!pop) { return; }
    api("POST", "/api/desk/recording", { call_id: pop.call_id, paused: !recordingPaused }).then(function (r) {
      if (!r.ok) { return; }
      recordingPaused = r.data.paused;
      $("recording-pause").textContent = S[recordingPaused ? "pop.resume_recording" : "pop.pause_recording"];
      $("recording-state").textContent = recordingPaused ? S["pop.recording_paused"] : pop.recording.text;
    });
  });

  function showPop(p) {
    if (pop && pop.call_id === p.call_id) { popShown(p); return; }  // after a reconnect: keep what was typed
    pop = p;
    savedTickets = [];
    callStartedAt = null;
    $("idle").hidden = true;
    $("pop").hidden = false;
    $("pop").dataset.offerId = p.offer_id;
    $("pop").dataset.callId = p.call_id;
    $("caller-number").textContent = p.caller.display;
    $("caller-number").classList.toggle("withheld", p.caller.withheld);
    $("ivr-path").textContent = p.ivr_path || "—";
    $("recording-state").textContent = p.recording ? p.recording.text : "";
    $("recording-state").classList.toggle("recorded", !!(p.recording && p.recording.on));
    recordingPaused = false;
    $("recording-pause").hidden = !(p.recording && p.recording.on);
    $("recording-pause").textContent = S["pop.pause_recording"];
    $("caller-language").textContent = p.caller_language_text || p.caller_language;
    $("caller-language").title = p.caller_language;
    $("queue-name").textContent = p.queue_name || p.queue || "—";
    $("queue-name").dataset.queue = p.queue || "";
    $("timer-label").textContent = S["pop.call_timer"];
    $("call-timer").textContent = "00:00";
    $("transcript-box").hidden = !p.transcript;
    $("transcript").textContent = p.transcript || "";
    rows($("history-calls"), p.history.calls, function (c) { return [c.at, c.outcome_text, c.wrapup, c.queue_name || c.queue]; },
         function (c) { return { queue: c.queue }; });
    rows($("history-tickets"), p.history.tickets, function (k) { return [k.number, k.at, k.category, k.location, k.status_text || k.status]; });
    $("no-history").hidden = p.history.calls.length + p.history.tickets.length > 0;
    var list = $("suggestions");
    list.textContent = "";
    if (!p.suggestions.length) {
      var none = document.createElement("li"); none.className = "muted"; none.textContent = S["pop.no_suggestions"];
      list.appendChild(none);
    }
    p.suggestions.forEach(function (s) {
      var li = document.createElement("li");
      li.dataset.slug = s.slug;
      var title = cardLink(s.slug, s.title); title.classList.add("title");
      var reason = document.createElement("span"); reason.className = "reason"; reason.textContent = S["pop.reason"] + ": " + s.reason;
      reason.title = s.reason_code || "";
      li.appendChild(title); li.appendChild(reason);
      if (s.summary) { var sum = document.createElement("span"); sum.className = "summary"; sum.textContent = s.summary; li.appendChild(sum); }
      list.appendChild(li);
    });
    closeCard();
    resetTicketForm(p.form);
    showMatter(p.matter || null);
    // a transferred call: who sent it and their notes (which also start this agent's notes)
    var handover = p.handover || null;
    $("handover").hidden = !handover;
    $("handover-from").textContent = handover ? handover.from_text : "";
    $("handover-notes").textContent = handover ? (handover.notes || "—") : "";
    $("transfer-message").textContent = "";
    forgetCalls(NOTES_PREFIX + p.call_id);
    $("notes").value = sessionStorage.getItem(NOTES_PREFIX + p.call_id) || (handover ? handover.notes : "") || "";
    $("wrapup-form").hidden = state.state !== "wrap_up";
    $("wrapup-message").textContent = "";
    $("outcome-prompt").hidden = true;
    document.querySelectorAll("#wrapup-form input[name=outcome]").forEach(function (r) { r.checked = false; });
    popShown(p);
    requestAnimationFrame(function () {
      // Painted on the next frame: the moment the agent can see it (measured by the benchmark).
      window.__kck.popShown[p.offer_id] = performance.timeOrigin + performance.now();
      $("pop").dataset.shown = p.offer_id;
    });
  }
  // After the call nothing of it stays on the idle desk: caller, cards, notes, searches, form.
  function clearPop() {
    pop = null;
    pendingState = null;
    forgetCalls(null);
    $("notes").value = "";
    $("caller-number").textContent = "";
    $("ivr-path").textContent = "";
    $("transcript").textContent = "";
    $("handover-notes").textContent = "";
    rows($("history-calls"), [], function () { return []; });
    rows($("history-tickets"), [], function () { return []; });
    var list = $("suggestions");
    list.textContent = "";
    var none = document.createElement("li"); none.className = "muted"; none.textContent = S["pop.no_suggestions"];
    list.appendChild(none);
    $("kb-search").value = "";
    $("kb-hits").textContent = "";
    closeCard();
    $("lookup-number").value = "";
    $("lookup-result").textContent = "";
    $("err-outcome").textContent = "";
    $("wrapup-message").textContent = "";
    $("outcome-prompt").hidden = true;
    document.querySelectorAll("#wrapup-form input[name=outcome]").forEach(function (r) { r.checked = false; });
    if ($("transfer-dialog").open) { $("transfer-dialog").close(); }
    consulting(false);
    $("handover").hidden = true;
    $("transfer-message").textContent = "";
    $("pop").hidden = true;
    $("pop").dataset.offerId = "";
    $("idle").hidden = false;
    $("wrapup-form").hidden = true;
    resetTicketForm({ call_id: "", category: "", caller_number: "", units: [] });
    $("ticket-message").textContent = "";
    showMatter(null);
  }
  // A matter without a call (desk_tasks.js): the form is the matter itself, not a new ticket;
  // its units are chosen in the form's unit list and it is forwarded from the matter's box.
  function showMatter(m) {
    $("ticket-save").hidden = !!m;
    $("f-kind").value = (m && pop && pop.form.kind) || "report";
    showKindFields();
    ["caller_name", "caller_email"].forEach(function (f) { $("f-" + f).value = m && pop ? pop.form[f] || "" : ""; });
    var box = $("matter-box");
    if (!box) { return; }
    box.hidden = !m;
    $("matter-number").textContent = m ? m.number : "";
    $("matter-source").textContent = m ? m.source : "";
    $("matter-category").textContent = m ? m.category_text : "";
    $("matter-location").textContent = m ? m.location || "—" : "";
    $("matter-description").textContent = m ? m.description : "";
    $("matter-units").textContent = m ? (m.units.map(function (u) {
      return u.status_text ? u.code + " (" + u.status_text + ")" : u.code; }).join(", ") || "—") : "";
    $("matter-status").textContent = m ? m.status_text : "";
    $("matter-needs-units").hidden = !(m && m.needs_units);
    $("matter-message").textContent = "";
  }

  // ---- ticket form -------------------------------------------------------------------------
  var FIELDS = ["kind", "refer_to", "complaint_about", "category", "location_text", "latitude", "longitude",
                "description", "caller_number", "caller_name", "caller_email", "contact_consent", "sms_consent",
                "units", "call_id"];
  // each kind its own fields: where to go instead (outside the city's competence), what a
  // complaint is about; an outside matter goes to no unit
  function showKindFields() {
    var kind = $("f-kind").value;
    document.querySelectorAll("#ticket-form [data-kinds]").forEach(function (el) {
      el.hidden = el.dataset.kinds.split(" ").indexOf(kind) < 0;
    });
  }
  $("f-kind").addEventListener("change", showKindFields);
  function clearErrors() {
    FIELDS.forEach(function (f) {
      var e = $("err-" + f); if (e) { e.textContent = ""; }
      var input = $("f-" + f); if (input) { input.removeAttribute("aria-invalid"); }
    });
  }
  function resetTicketForm(prefill) {
    var form = $("ticket-form");
    form.reset();
    clearErrors();
    $("f-call_id").value = prefill.call_id || "";
    $("f-category").value = prefill.category || "";
    $("f-caller_number").value = prefill.caller_number || "";
    $("f-location_text").value = prefill.location_text || "";
    $("f-description").value = prefill.description || "";
    checkUnits(prefill.units || []);
    showKindFields();
  }
  function checkUnits(codes) {
    document.querySelectorAll("#f-units input").forEach(function (box) { box.checked = codes.indexOf(box.value) >= 0; });
  }
  $("f-category").addEventListener("change", function () {
    var any = document.querySelector("#f-units input:checked");
    if (!any) { checkUnits((boot.unitsByCategory[this.value] || []).slice(0, 1)); }
  });
  function formData() {
    // the resident's language (the call's), so the units' answer reaches them in it
    var data = { language: (pop && pop.caller_language) || boot.lang, units: [] };
    FIELDS.forEach(function (f) {
      var el = $("f-" + f);
      if (el && f !== "units" && el.type !== "checkbox") { data[f] = el.value; }
    });
    data.contact_consent = $("f-contact_consent").checked;
    data.sms_consent = $("f-sms_consent").checked;
    if (!$("f-units-box").hidden) {
      document.querySelectorAll("#f-units input:checked").forEach(function (b) { data.units.push(b.value); });
    }
    return data;
  }
  window.__kck.ticketData = formData;
  // desk_tasks.js: a held matter's pop shown and ended by the same code as a call's
  window.__kck.showPop = function (p) { showPop(p); };
  window.__kck.clearPop = function () { clearPop(); };
  window.__kck.currentPop = function () { return pop; };  // the hints' attach step sends the caller's fields (desk-hints.js)
  $("ticket-form").addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    $("ticket-message").textContent = "";
    $("ticket-save").disabled = true;
    api("POST", "/api/tickets", formData()).then(function (r) {
      $("ticket-save").disabled = false;
      if (r.ok) {
        savedTickets.push(r.data.number);
        say($("ticket-message"), r.data.message, false);
        $("ticket-message").dataset.number = r.data.number;
        var radio = $("o-ticket_created"); if (radio) { radio.checked = true; }
        return;
      }
      var errors = r.data.errors || {};
      var first = null;
      Object.keys(errors).forEach(function (f) {
        var e = $("err-" + f); if (e) { e.textContent = errors[f]; }
        var input = f === "units" ? document.querySelector("#f-units input") : $("f-" + f);
        if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
      });
      say($("ticket-message"), r.data.message || "", true);
      if (first) { first.focus(); }
    }, function () { $("ticket-save").disabled = false; banner(S["desk.connection_lost"]); });
  });
  $("ticket-form").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); $("ticket-form").requestSubmit(); }
  });

  // ---- wrap-up -----------------------------------------------------------------------------
  function saveWrapUp(available) {
    var chosen = document.querySelector("#wrapup-form input[name=outcome]:checked");
    $("err-outcome").textContent = "";
    if (!pop) { return; }
    // the router's state change (available) may clear the pop before this answer comes back
    var callId = pop.call_id;
    var tasks = window.__kckTasks;  // desk_tasks.js: the callback's window and note
    api("POST", "/api/desk/wrap-up", { call_id: callId, outcome: chosen ? chosen.value : "",
        available: available, notes: $("notes").value,
        callback: tasks ? tasks.wish() : null }).then(function (r) {
      if (!r.ok) {
        var errors = r.data.errors || {};
        $("err-outcome").textContent = errors.outcome || errors.callback || r.data.message || "";
        return;
      }
      $("wrapup-message").textContent = r.data.message;
      if (r.data.callback && tasks) { tasks.refresh(); }
      sessionStorage.removeItem(NOTES_PREFIX + callId);  // the notes went with the outcome
      if (r.data.state) { showState(r.data.state); }
    });
  }
  $("wrapup-form").addEventListener("submit", function (e) { e.preventDefault(); saveWrapUp(false); });
  $("wrapup-save-available").addEventListener("click", function () { saveWrapUp(true); });
  $("notes").addEventListener("input", function () {
    if (pop) { sessionStorage.setItem(NOTES_PREFIX + pop.call_id, this.value); }
  });
  $("logout-form").addEventListener("submit", function () { forgetCalls(null); });

  // ---- transfer ----------------------------------------------------------------------------
  // The chooser lists where the call may go now (available agents, queues, skills, second-line
  // numbers); the notes and the ticket draft travel with the call to the next agent's pop.
  function openTransfer() {
    if (!pop || state.state !== "on_call") { return; }
    $("transfer-error").textContent = "";
    api("GET", "/api/desk/transfer/targets").then(function (r) {
      var select = $("transfer-target");
      select.textContent = "";
      var groups = {};
      ["agent", "queue", "skill", "number"].forEach(function (kind) {
        var group = document.createElement("optgroup");
        group.label = S["transfer.kind." + kind];
        group.dataset.kind = kind;
        groups[kind] = group;
        select.appendChild(group);
      });
      (r.data.targets || []).forEach(function (o) {
        var option = document.createElement("option");
        option.value = o.target;
        option.textContent = o.label + (o.detail ? " (" + o.detail + ")" : "");
        groups[o.kind].appendChild(option);
      });
      ["queue", "skill", "number"].forEach(function (kind) {
        if (!groups[kind].children.length) { select.removeChild(groups[kind]); }
      });
      if (!groups.agent.children.length) {
        var none = document.createElement("option");
        none.disabled = true; none.textContent = S["transfer.none_available"];
        groups.agent.appendChild(none);
      }
      $("transfer-dialog").showModal();
      select.focus();
    });
  }
  function transfer() {
    var target = $("transfer-target").value;
    if (!pop || !target) { $("transfer-error").textContent = S["transfer.refused.bad_target"]; return; }
    var draft = formData();
    delete draft.call_id; delete draft.language;
    $("transfer-go").disabled = true;
    api("POST", "/api/desk/transfer", { call_id: pop.call_id, to: target, notes: $("notes").value,
        draft: draft }).then(function (r) {
      $("transfer-go").disabled = false;
      if (!r.ok) { $("transfer-error").textContent = r.data.message || String(r.status); return; }
      $("transfer-dialog").close();
      say($("transfer-message"), r.data.message, false);
      $("btn-transfer").disabled = true;
    }, function () { $("transfer-go").disabled = false; banner(S["desk.connection_lost"]); });
  }
  // Consult: the caller waits with music while this agent talks to the chosen agent (whose desk
  // pops the call); then "hand the caller over" or "back to the caller".
  function consulting(on) {
    $("btn-consult-complete").hidden = !on;
    $("btn-consult-cancel").hidden = !on;
    $("btn-transfer").disabled = on || state.state !== "on_call";
  }
  function consult(step) {
    var target = $("transfer-target").value;
    if (!pop || (step === "start" && target.indexOf("agent:") !== 0)) {
      $("transfer-error").textContent = S["transfer.refused.bad_target"]; return;
    }
    var body = { call_id: pop.call_id, step: step };
    if (step === "start") {
      var draft = formData();
      delete draft.call_id; delete draft.language;
      body.to = target; body.notes = $("notes").value; body.draft = draft;
      // answered once the colleague's phone is dialled (about a second; up to ~4 s when the
      // PBX lost the digit): one click, one consult
      $("consult-go").disabled = true;
    }
    api("POST", "/api/desk/consult", body).then(function (r) {
      $("consult-go").disabled = false;
      if (!r.ok) {
        if (step === "start") { $("transfer-error").textContent = r.data.message || String(r.status); }
        else { say($("transfer-message"), r.data.message || String(r.status), true); }
        return;
      }
      if ($("transfer-dialog").open) { $("transfer-dialog").close(); }
      say($("transfer-message"), r.data.message, false);
      consulting(step === "start");
      if (step === "complete") { $("btn-transfer").disabled = true; }
    }, function () { $("consult-go").disabled = false; banner(S["desk.connection_lost"]); });
  }
  $("consult-go").addEventListener("click", function () { consult("start"); });
  $("btn-consult-complete").addEventListener("click", function () { consult("complete"); });
  $("btn-consult-cancel").addEventListener("click", function () { consult("cancel"); });
  $("btn-transfer").addEventListener("click", openTransfer);
  $("transfer-form").addEventListener("submit", function (e) { e.preventDefault(); transfer(); });
  $("transfer-target").addEventListener("dblclick", transfer);
  $("transfer-cancel").addEventListener("click", function () { $("transfer-dialog").close(); });

  // ---- knowledge base: the whole card beside the call, search, ticket lookup -------------------
  // Cards and search follow the caller's language while a call is on the desk.
  function cardLanguage() { return pop && pop.caller_language ? pop.caller_language : boot.lang; }
  function cardLink(slug, text) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "link"; b.dataset.openCard = slug; b.textContent = text;
    b.title = S["kb.open_card"];
    return b;
  }
  var CARD_FACTS = ["unit_name", "who_may_apply", "documents", "fees", "deadlines", "where", "hours",
                    "online", "legal_basis"];
  function factValue(value) {
    var dd = document.createElement("dd");
    if (!Array.isArray(value)) { dd.textContent = value; return dd; }
    var ul = document.createElement("ul");
    value.forEach(function (v) {
      var li = document.createElement("li");
      if (/^https?:\/\/\S+$/.test(v)) {
        var a = document.createElement("a"); a.href = v; a.textContent = v; a.target = "_blank"; a.rel = "noopener noreferrer";
        li.appendChild(a);
      } else { li.textContent = v; }
      ul.appendChild(li);
    });
    dd.appendChild(ul);
    return dd;
  }
  function showCard(c) {
    $("kb-card").dataset.slug = c.slug;
    $("kb-card").lang = c.language;
    $("kb-card-title").textContent = c.title;
    $("kb-card-summary").textContent = c.summary;
    var facts = $("kb-card-facts");
    facts.textContent = "";
    CARD_FACTS.forEach(function (field) {
      var value = c[field];
      if (!value || (Array.isArray(value) && !value.length)) { return; }
      var dt = document.createElement("dt"); dt.textContent = S[field === "unit_name" ? "kb.unit" : "kb." + field];
      var dd = factValue(value); dd.dataset.field = field;
      facts.appendChild(dt); facts.appendChild(dd);
    });
    $("kb-card-body").textContent = c.body;
    $("kb-card").hidden = false;
    $("col-kb").scrollTop = 0;
    $("kb-card-close").focus();
  }
  function closeCard() {
    $("kb-card").hidden = true;
    $("kb-card").dataset.slug = "";
    ["kb-card-title", "kb-card-summary", "kb-card-facts", "kb-card-body"].forEach(function (id) { $(id).textContent = ""; });
  }
  $("col-kb").addEventListener("click", function (e) {
    var link = e.target.closest("[data-open-card]");
    if (!link) { return; }
    api("GET", "/api/kb/card/" + encodeURIComponent(link.dataset.openCard) + "?lang=" + encodeURIComponent(cardLanguage()))
      .then(function (r) { if (r.ok) { showCard(r.data); } else { banner(r.data.message || String(r.status)); } });
  });
  $("kb-card-close").addEventListener("click", closeCard);

  var searchTimer = null;
  $("kb-search").addEventListener("input", function () {
    var q = this.value.trim();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      if (!q) { $("kb-hits").textContent = ""; return; }
      api("GET", "/api/kb/search?q=" + encodeURIComponent(q) + "&lang=" + encodeURIComponent(cardLanguage())).then(function (r) {
        var list = $("kb-hits");
        list.textContent = "";
        (r.data.hits || []).forEach(function (h) {
          var li = document.createElement("li");
          var b = cardLink(h.slug, h.title);
          var snip = document.createElement("div"); snip.innerHTML = h.snippet_html;  // escaped by the server
          li.appendChild(b); li.appendChild(snip); list.appendChild(li);
        });
        if (!list.children.length) { var li = document.createElement("li"); li.className = "muted"; li.textContent = S["kb.no_hits"]; list.appendChild(li); }
      });
    }, 200);
  });
  $("lookup-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var number = $("lookup-number").value.trim();
    if (!number) { return; }
    api("GET", "/api/tickets/" + encodeURIComponent(number)).then(function (r) {
      var box = $("lookup-result");
      box.textContent = "";
      box.classList.toggle("error", !r.ok);
      if (!r.ok) { box.textContent = r.data.message; return; }
      var d = r.data;
      [[S["ticket.title"], d.number], [S["ticket.category"], d.category_text],
       [S["ticket.location"], d.location_text || "—"], [S["ticket.description"], d.description],
       [S["ticket.units"], d.units.map(function (u) { return u.status_text ? u.name + " (" + u.status_text + ")" : u.name; }).join(", ")],
       [S["ticket.created_at"], new Date(d.created_at).toLocaleString({ en: "en-GB", uk: "uk-UA" }[boot.lang] || "pl-PL")],
       [S["ticket.status"], d.status_text || d.status]].forEach(function (pair) {
        var p = document.createElement("div");
        var k = document.createElement("b"); k.textContent = pair[0] + ": ";
        p.appendChild(k); p.appendChild(document.createTextNode(pair[1]));
        box.appendChild(p);
      });
      if (d.page) {  // in a new tab: the call stays on the desk
        var a = document.createElement("a");
        a.id = "lookup-matter-page"; a.href = d.page; a.target = "_blank"; a.rel = "noopener";
        a.textContent = S["ticket.matter_page"];
        box.appendChild(a);
      }
    });
  });

  // ---- keyboard and language ----------------------------------------------------------------
  document.addEventListener("keydown", function (e) {
    if (!e.altKey) { return; }
    var k = e.key.toLowerCase();
    if (k === "a") { e.preventDefault(); $("btn-available").click(); }
    else if (k === "p") { e.preventDefault(); $("btn-pause").click(); }
    else if (k === "k") { e.preventDefault(); $("kb-search").focus(); }
    else if (k === "t") { e.preventDefault(); $("f-category").focus(); }
    else if (k === "n") { e.preventDefault(); $("notes").focus(); }
    else if (k === "l") { e.preventDefault(); $("lookup-number").focus(); }
    else if (k === "x") { e.preventDefault(); openTransfer(); }
  });
  $("lang-switch").addEventListener("click", function (e) {
    e.preventDefault();
    var secure = location.protocol === "https:" ? "; secure" : "";
    document.cookie = "kck_lang=" + this.dataset.lang + "; path=/; max-age=31536000; samesite=lax" + secure;
    location.reload();
  });

  // ---- the socket --------------------------------------------------------------------------
  var backoff = 250;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/desk/ws");
    window.__kck.socket = ws;
    ws.onopen = function () {
      backoff = 250;
      ws.send(JSON.stringify({ type: "ready" }));
      $("conn").dataset.up = "1";
      banner("");
    };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "state") { showState(msg.data); }
      else if (msg.type === "pop") { showPop(msg.data); }
      else if (msg.type === "matter" && window.__kckTasks) { window.__kckTasks.reload(); }
      else if (msg.type === "pong") {
        var cb = window.__kck.pongs[msg.t]; if (cb) { delete window.__kck.pongs[msg.t]; cb(); }
      }
    };
    ws.onclose = function (event) {
      $("conn").dataset.up = "0";
      if (window.__kck.socket !== ws) { return; }
      if (event.code === 4001) { location.href = "/login"; return; }
      banner(S["desk.connection_lost"]);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }
  // A round trip over the same socket: the baseline the pop latency is compared with.
  window.__kck.echo = function () {
    return new Promise(function (resolve) {
      var id = String(Math.random()), start = performance.now();
      window.__kck.pongs[id] = function () { resolve(performance.now() - start); };
      window.__kck.socket.send(JSON.stringify({ type: "ping", t: id }));
    });
  };
  connect();
})();
