// Wall board: one WebSocket (/board/ws) pushes snapshots and agent changes; nothing is polled.
// The page says "ready" first (the server pushes nothing before); 4001 sends it to sign in.
// Times in state and the longest wait tick here, in the browser, from the "since" instants.
"use strict";
(function () {
  const body = document.body;
  const wall = body.dataset.wall === "1";
  // words in the reader's language (the page's data-strings: agentdesk/i18n.py)
  const S = JSON.parse(body.dataset.strings || "{}");
  const say = (key, params) => (S[key] || key).replace(/\{(\w+)\}/g, (_, k) => params[k]);
  const STATES = ["available", "offered", "on_call", "wrap_up", "paused", "logged_out"];
  const stateName = (state) => S["state." + state] || state;
  const reasonName = (reason) => (reason ? S["reason." + reason] || reason : "");
  const locale = document.documentElement.lang === "en" ? "en-GB" : document.documentElement.lang === "uk" ? "uk-UA" : "pl-PL";
  const WALL_FAILED_CALLBACKS = 4;
  let board = null;
  let skew = 0; // server clock minus browser clock, from the snapshot's "at"

  const pct = (v) => (v === null || v === undefined ? "—" : v.toFixed(1).replace(".", ",") + "%");
  const secs = (v) => (v === null || v === undefined ? "—" : Math.round(v) + "\u00a0s"); // no line break in "42 s"
  const now = () => Date.now() + skew;
  function duration(fromIso) {
    if (!fromIso) return "—";
    let s = Math.max(0, Math.floor((now() - Date.parse(fromIso)) / 1000));
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const two = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" + two(m) : m) + ":" + two(s);
  }
  function longest(block) {
    if (block.oldest_waiting_since) return duration(block.oldest_waiting_since);
    return block.waiting ? secs(block.longest_wait_s) : "—";
  }
  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function slClass(value, below) { return value === null || value === undefined ? "" : below ? "below" : "ok"; }

  function renderTotals() {
    const t = board.total;
    const box = document.getElementById("totals");
    const set = (k, v) => { box.querySelector(`[data-k="${k}"]`).textContent = v; };
    set("waiting", t.waiting);
    set("longest", longest(t));
    set("sl", pct(t.service_level_pct));
    set("target", say("board.target", { pct: t.target_pct, s: t.target_within_s }));
    set("sl30", pct(t.service_level_30min_pct));
    set("asa", secs(t.asa_s));
    set("abandon", pct(t.abandon_rate_pct));
    set("offered", t.offered);
    set("answered", t.answered);
    set("abandoned", t.abandoned);
    set("fcr", pct(t.fcr_pct));
    set("occupancy", pct(t.occupancy_pct));
    box.querySelector('[data-sl="today"]').className = slClass(t.service_level_pct, t.below_target);
    box.querySelector('[data-sl="recent"]').className = slClass(t.service_level_30min_pct, t.below_target_30min);
  }

  function renderQueues() {
    const tbody = document.querySelector("#queues tbody");
    tbody.replaceChildren();
    for (const q of board.queues) {
      const tr = document.createElement("tr");
      tr.dataset.queue = q.id;
      cell(tr, q.name);
      cell(tr, q.waiting, q.waiting ? "hot" : "");
      cell(tr, longest(q), "longest");
      cell(tr, pct(q.service_level_pct), slClass(q.service_level_pct, q.below_target));
      cell(tr, pct(q.service_level_30min_pct), slClass(q.service_level_30min_pct, q.below_target_30min));
      cell(tr, secs(q.asa_s));
      cell(tr, pct(q.abandon_rate_pct));
      cell(tr, q.offered); cell(tr, q.answered); cell(tr, q.abandoned);
      cell(tr, pct(q.fcr_pct));
      tbody.appendChild(tr);
    }
  }

  function renderFailedCallbacks() {
    const all = board.failed_callbacks || [];
    // the wall screen has room for a few (newest first); the board page shows them all
    const rows = wall ? all.slice(0, WALL_FAILED_CALLBACKS) : all;
    const table = document.getElementById("failed-callbacks");
    table.querySelector("tbody").replaceChildren(...rows.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.call = c.call_id;
      cell(tr, c.number); cell(tr, c.queue); cell(tr, c.at);
      cell(tr, c.why ? S["callback.why." + c.why.toLowerCase()] || c.why : "").title = c.why;
      return tr;
    }));
    table.hidden = rows.length === 0;
    document.getElementById("no-failed-callbacks").hidden = rows.length > 0;
    const more = document.getElementById("more-failed-callbacks");
    more.hidden = all.length <= rows.length;
    more.textContent = say("board.more", { n: all.length - rows.length });
  }

  function renderAgentCounts() {
    const counts = {};
    for (const a of board.agents) counts[a.state] = (counts[a.state] || 0) + 1;
    const p = document.getElementById("agent-states");
    p.replaceChildren();
    for (const state of STATES) {
      const span = document.createElement("span");
      span.className = "state " + state;
      span.dataset.state = state;
      span.textContent = `${stateName(state)}: ${counts[state] || 0}`;
      p.appendChild(span);
    }
  }

  function agentRow(a) {
    const tr = document.createElement("tr");
    tr.dataset.agent = a.agent;
    tr.className = "state " + a.state;
    cell(tr, a.name || a.agent);
    cell(tr, stateName(a.state), "state-name");
    cell(tr, reasonName(a.reason));
    const t = cell(tr, duration(a.since), "since");
    t.dataset.since = a.since || "";
    if (!wall) {
      const td = document.createElement("td");
      const form = document.getElementById("force-template").content.firstElementChild.cloneNode(true);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        if (form.state.value) askToForce(a, form.state.value, form.state.selectedOptions[0].textContent);
      });
      td.appendChild(form);
      tr.appendChild(td);
    }
    return tr;
  }

  function renderAgents() {
    const tbody = document.querySelector("#agents tbody");
    tbody.replaceChildren(...board.agents.map(agentRow));
    renderAgentCounts();
  }

  function applyAgent(ev) {
    let a = board.agents.find((x) => x.agent === ev.agent);
    if (!a) { a = { agent: ev.agent, name: ev.agent }; board.agents.push(a); }
    a.state = ev.state; a.reason = ev.reason || null; a.since = ev.since || a.since;
    const old = document.querySelector(`#agents tr[data-agent="${CSS.escape(a.agent)}"]`);
    const row = agentRow(a);
    if (old) old.replaceWith(row); else document.querySelector("#agents tbody").appendChild(row);
    renderAgentCounts();
  }

  function tick() {
    document.getElementById("clock").textContent = new Date(now()).toLocaleTimeString(locale, { timeZone: "Europe/Warsaw" });
    for (const td of document.querySelectorAll("#agents td.since")) td.textContent = duration(td.dataset.since);
    if (!board) return;
    document.querySelector('#totals [data-k="longest"]').textContent = longest(board.total);
    for (const q of board.queues) {
      const td = document.querySelector(`#queues tr[data-queue="${CSS.escape(String(q.id))}"] td.longest`);
      if (td) td.textContent = longest(q);
    }
  }

  // Forcing a state: the supervisor picks a state (none is preselected), then confirms it in a
  // dialog naming the agent and the state; a pause needs its reason. The server audits it.
  const dialog = document.getElementById("force-dialog");
  let pending = null;
  function askToForce(a, state, stateName) {
    pending = { agent: a.agent, state: state };
    dialog.querySelector('[data-f="agent"]').textContent = `${a.name || a.agent} (${a.agent})`;
    dialog.querySelector('[data-f="state"]').textContent = stateName;
    const paused = state === "paused";
    document.getElementById("force-reason-field").hidden = !paused;
    const reason = document.getElementById("force-reason");
    reason.value = "";
    showForceError("");
    dialog.showModal();
  }
  function showForceError(text) {
    const p = document.getElementById("force-error");
    p.textContent = text; p.hidden = !text;
  }
  async function confirmForce(ev) {
    ev.preventDefault();
    if (!pending) return;
    const reason = pending.state === "paused" ? document.getElementById("force-reason").value : null;
    if (pending.state === "paused" && !reason) {
      showForceError(document.getElementById("force-error").dataset.reasonNeeded); return;
    }
    const res = await fetch(`/api/board/agents/${encodeURIComponent(pending.agent)}/state`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": body.dataset.csrf },
      body: JSON.stringify({ state: pending.state, reason: reason }),
    });
    if (!res.ok) {
      const refused = await res.json().catch(() => ({}));
      showForceError(refused.message || S["force.failed"]); return;
    }
    pending = null;
    dialog.close();
  }
  if (dialog) {
    document.getElementById("force-confirm").addEventListener("submit", confirmForce);
    document.getElementById("force-cancel").addEventListener("click", () => { pending = null; dialog.close(); });
    document.getElementById("force-reason").addEventListener("change", () => showForceError(""));
  }

  let delay = 500;
  function connect() {
    const link = document.getElementById("link");
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/board/ws");
    ws.onopen = () => {
      delay = 500;
      ws.send(JSON.stringify({ type: "ready" })); // the server pushes nothing before this
      link.textContent = S["board.live"]; link.className = "link up";
    };
    ws.onmessage = (msg) => {
      const m = JSON.parse(msg.data);
      if (m.type === "snapshot") {
        board = m.data;
        skew = Date.parse(board.at) - Date.now();
        renderTotals(); renderQueues(); renderAgents(); renderFailedCallbacks();
        body.dataset.updated = board.at;
      } else if (m.type === "agent" && board) {
        applyAgent(m.data);
      }
    };
    ws.onclose = (event) => {
      if (event.code === 4001) { // signed out or the session expired
        location.href = "/login?next=" + encodeURIComponent(location.pathname); return;
      }
      link.textContent = S["board.retrying"]; link.className = "link down";
      setTimeout(connect, delay); delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
  tick();
  setInterval(tick, 1000);
})();
