// Copy buttons for secret calendar addresses. Without JavaScript the buttons stay hidden and the
// read-only address is still there to select and copy by hand.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!input) { return; }
    button.hidden = false;
    input.addEventListener("focus", function () { input.select(); });
    function report(copied) {
      if (status) {
        status.textContent = copied
          ? "Copied. Paste it into your calendar app."
          : "Could not copy automatically: the address is selected, press Ctrl+C (or ⌘C) to copy it.";
      }
    }
    function fallback() {
      input.focus();
      input.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      report(copied);
    }
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { report(true); }, fallback);
      } else {
        fallback();
      }
    });
  });
})();
