// A wide table scrolls inside its own box (role="region", focusable) rather than the page. When it
// does not fit, say so in its caption and mark the box, so nobody misses the columns to the right.
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".table-scroll");
  if (!boxes.length) return;

  function mark() {
    boxes.forEach(function (box) {
      var wide = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("is-scrollable", wide);
      var caption = box.querySelector("caption");
      if (!caption) return;
      var note = caption.querySelector(".scroll-hint");
      // A caption kept for screen readers only is shown while its table scrolls.
      if (caption.classList.contains("visually-hidden") || caption.hasAttribute("data-hidden-caption")) {
        caption.setAttribute("data-hidden-caption", "");
        caption.classList.toggle("visually-hidden", !wide);
      }
      if (wide && !note) {
        note = document.createElement("span");
        note.className = "scroll-hint";
        note.textContent = " (scroll sideways for more columns)";
        caption.appendChild(note);
      } else if (!wide && note) {
        note.remove();
      }
    });
  }

  mark();
  var timer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(mark, 150);
  });
})();
