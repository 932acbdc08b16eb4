// herald's editors' pages: the only script. It turns an edition's progress
// live through Server-Sent Events; every page works without it.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !box.dataset.events || !window.EventSource) { return; }
  var field = function (name) { return box.querySelector('[data-field="' + name + '"]'); };
  var set = function (name, text) { var el = field(name); if (el) { el.textContent = text; } };
  var hint = field("hint");
  if (hint) { hint.textContent = "Live: these counts follow the edition as it sends."; }
  var es = new EventSource(box.dataset.events);
  es.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    var status = field("status");
    if (status) { status.textContent = p.status; status.className = "status status-" + p.status; }
    set("summary", p.sent + " sent of " + p.total);
    ["sent", "skipped", "failed", "pending", "cancelled"].forEach(function (k) { set(k, String(p[k])); });
    set("rate", p.rate > 0 ? p.rate.toFixed(1) + " messages a second" : "-");
    set("eta", p.eta || "-");
    var bar = field("bar");
    if (bar) { bar.max = Math.max(p.total, 1); bar.value = p.sent; bar.textContent = p.sent + " of " + p.total; }
    box.dataset.state = p.status;
  });
  es.addEventListener("done", function () {
    es.close();
    box.dataset.state = "finished";
    if (hint) { hint.textContent = "Finished. Reload to see every delivery."; }
  });
  es.addEventListener("ended", function () {
    es.close();
    box.dataset.state = "finished";
    if (hint) { hint.textContent = "Your session has ended: log in again to follow this edition."; }
  });
  es.onerror = function () {
    if (box.dataset.state === "finished") { return; }
    if (hint) { hint.textContent = "The live counts stopped; reload to see the latest."; }
  };
}());
