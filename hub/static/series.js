// The series form: show only the options of the chosen frequency (weekly: weekdays and every N
// weeks; monthly: by date or nth weekday). Without this script both show, each labelled.
(function () {
  "use strict";
  var form = document.querySelector("form[action='/desk/series/new']");
  if (!form) return;
  var groups = form.querySelectorAll(".freq-options[data-freq]");
  function show() {
    var chosen = form.querySelector("input[name='freq']:checked");
    var freq = chosen ? chosen.value : "weekly";
    groups.forEach(function (group) {
      group.hidden = group.getAttribute("data-freq") !== freq;
    });
  }
  form.querySelectorAll("input[name='freq']").forEach(function (input) {
    input.addEventListener("change", show);
  });
  show();
})();
