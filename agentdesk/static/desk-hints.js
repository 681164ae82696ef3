// kck agent desk: hints while a ticket is written. A problem report shows the open matters of
// its category at the same place (the agent may attach the caller to one instead of saving a
// new report); an idea shows the ideas on the same topic with the count on each side.
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var S = boot.strings;
  var $ = function (id) { return document.getElementById(id); };
  var asked = 0;  // the latest look: an older answer arriving late is dropped
  var waiting = null;

  function t(key, params) {
    var text = S[key] || key;
    Object.keys(params || {}).forEach(function (k) { text = text.replace("{" + k + "}", params[k]); });
    return text;
  }
  function send(method, url, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body) {
      opts.headers["X-CSRF-Token"] = boot.csrf;
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    });
  }
  function value(name) { return $("f-" + name).value.trim(); }
  function element(tag, text, cls) {
    var el = document.createElement(tag);
    if (text) { el.textContent = text; }
    if (cls) { el.className = cls; }
    return el;
  }
  function hide(id) { $(id).hidden = true; }

  function showNearby(data) {
    var list = $("duplicate-list");
    list.textContent = "";
    $("duplicate-message").textContent = "";
    if (!data.matters || !data.matters.length) { hide("duplicate-hint"); return; }
    $("duplicate-text").textContent = data.hint;
    data.matters.forEach(function (m) {
      var item = element("li");
      item.dataset.number = m.number;
      item.appendChild(element("b", m.number));
      item.appendChild(document.createTextNode(" " + [m.location_text || "", m.why, m.status_text,
        t("duplicate.residents", { n: m.residents })].join(" · ")));
      item.appendChild(element("div", m.description, "snippet"));
      var attach = element("button", S["duplicate.attach"], "attach");
      attach.type = "button";
      attach.addEventListener("click", function () { attachCaller(m.number, attach); });
      item.appendChild(attach);
      list.appendChild(item);
    });
    $("duplicate-hint").hidden = false;
  }

  function attachCaller(number, button) {
    var data = window.__kck.ticketData();
    var body = { caller_number: data.caller_number, caller_name: data.caller_name,
                 caller_email: data.caller_email, contact_consent: data.contact_consent,
                 language: data.language, call_id: data.call_id };
    ["caller_number", "caller_name", "caller_email", "contact_consent"].forEach(function (f) {
      $("err-" + f).textContent = "";
    });
    button.disabled = true;
    send("POST", "/api/tickets/" + encodeURIComponent(number) + "/residents", body).then(function (r) {
      button.disabled = false;
      var message = $("duplicate-message");
      message.textContent = r.data.message || "";
      message.classList.toggle("error", !r.ok);
      if (r.ok) { message.dataset.number = r.data.number; return; }
      Object.keys(r.data.errors || {}).forEach(function (f) {
        var e = $("err-" + f); if (e) { e.textContent = r.data.errors[f]; }
      });
    }, function () { button.disabled = false; });
  }

  function showIdeas(data) {
    var list = $("idea-list");
    list.textContent = "";
    if (!data.similar || !data.similar.length) { hide("idea-hint"); return; }
    $("idea-text").textContent = data.hint;
    $("idea-counts").textContent = data.counts_text;
    data.similar.forEach(function (s) {
      var item = element("li", "", "side-" + s.side);
      item.dataset.number = s.number;
      item.appendChild(element("b", s.number));
      item.appendChild(document.createTextNode(" " + s.side_text + " · " + s.status_text + ": " + s.text));
      list.appendChild(item);
    });
    $("idea-hint").hidden = false;
  }

  function look() {
    var mine = ++asked;
    var kind = value("kind"), category = value("category");
    var query = new URLSearchParams({ category: category });
    if (kind === "report" && category && (value("location_text") || value("latitude"))) {
      query.set("location_text", value("location_text"));
      query.set("latitude", value("latitude"));
      query.set("longitude", value("longitude"));
      send("GET", "/api/desk/nearby-matters?" + query).then(function (r) {
        if (mine === asked && r.ok) { showNearby(r.data); }
      });
    } else {
      hide("duplicate-hint");
    }
    if (kind === "idea" && category && value("description").length >= 10) {
      query.set("description", value("description"));
      send("GET", "/api/desk/similar-ideas?" + query).then(function (r) {
        if (mine === asked && r.ok) { showIdeas(r.data); }
      });
    } else {
      hide("idea-hint");
    }
  }
  function soon() {
    clearTimeout(waiting);
    waiting = setTimeout(look, 350);  // once the agent pauses typing, not on every key
  }

  ["kind", "category"].forEach(function (f) { $("f-" + f).addEventListener("change", look); });
  ["location_text", "latitude", "longitude", "description"].forEach(function (f) {
    $("f-" + f).addEventListener("input", soon);
  });
  $("ticket-form").addEventListener("reset", function () {
    ++asked;
    hide("duplicate-hint");
    hide("idea-hint");
    soon();  // a pop fills the form right after resetting it (a transferred call's draft)
  });
})();
