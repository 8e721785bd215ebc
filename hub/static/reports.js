/* The board pack: a Print button, and the commentary typed into each box copied to its print
   copy as you type (a textarea prints cut off; the copy prints in full). Without this file the
   "Keep the commentary on this page" button does the same through the server. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("textarea[data-mirror]").forEach(function (box) {
    var copy = document.getElementById(box.getAttribute("data-mirror"));
    if (!copy) return;
    box.addEventListener("input", function () { copy.textContent = box.value; });
  });
})();
