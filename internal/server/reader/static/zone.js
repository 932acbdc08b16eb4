// herald: the reader's time zone. A select marked data-herald-zone that
// has no zone chosen takes the browser's (Intl), adding it to the list
// when it is not there. Without JavaScript the reader picks from the list.
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!zone) { return; }
  var selects = document.querySelectorAll("select[data-herald-zone]");
  for (var i = 0; i < selects.length; i++) {
    var s = selects[i];
    if (s.value) { continue; }
    var found = false;
    for (var j = 0; j < s.options.length; j++) {
      if (s.options[j].value === zone) { found = true; break; }
    }
    if (!found) {
      var o = document.createElement("option");
      o.value = zone;
      o.textContent = zone;
      s.appendChild(o);
    }
    s.value = zone;
  }
})();
