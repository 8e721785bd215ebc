/* Cash-up: the counted total and the difference from what the till expects, as the counts are typed. */
(function () {
  "use strict";
  var form = document.getElementById("cashup");
  if (!form) return;
  var expected = parseInt(document.getElementById("expected").getAttribute("data-pence"), 10);
  var out = document.getElementById("counted");
  var variance = document.getElementById("variance");
  function money(p) {
    var sign = p < 0 ? "−" : "";
    p = Math.abs(p);
    return sign + "£" + Math.floor(p / 100) + "." + String(p % 100).padStart(2, "0");
  }
  function update() {
    var total = 0;
    var any = false;
    form.querySelectorAll("input[data-pence]").forEach(function (input) {
      var n = parseInt(input.value, 10);
      if (/^\d+$/.test(input.value.trim())) { total += n * parseInt(input.getAttribute("data-pence"), 10); any = true; }
    });
    out.textContent = money(total);
    if (!any) { variance.textContent = "Count the drawer"; variance.className = "variance"; return; }
    var diff = total - expected;
    variance.textContent = diff === 0 ? "None — the drawer balances" : money(Math.abs(diff)) + (diff > 0 ? " over" : " short") + ": say why below";
    variance.className = "variance " + (diff === 0 ? "" : diff > 0 ? "over" : "short");
  }
  form.addEventListener("input", update);
  update();
})();
