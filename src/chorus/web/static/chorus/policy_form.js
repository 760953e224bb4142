/* Policy form: show only the fields the chosen kind uses (everything stays visible
   without JavaScript). */
(function () {
  "use strict";
  var kind = document.getElementById("id_kind");
  if (!kind) return;
  var uses = {
    banned_terms: ["terms", "patterns"],
    disclaimer: ["disclaimer"],
    link_allow: ["domains"],
    link_deny: ["domains"],
  };
  var all = ["terms", "patterns", "disclaimer", "domains"];
  function sync() {
    all.forEach(function (name) {
      var el = document.getElementById("id_" + name);
      if (el) el.closest(".field").hidden = (uses[kind.value] || []).indexOf(name) < 0;
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
