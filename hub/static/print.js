/* Print buttons: a button with data-print prints the page. The button stays hidden without this
   file (the browser's own Print still works). No inline handlers: the Content-Security-Policy
   allows scripts from files only. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
