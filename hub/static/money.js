/* Money pages: print buttons, the credit-note form's helper, and Stripe's card form ("Pay now").
   Everything works without this file except paying online, which needs Stripe.js. */
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // Typing an amount against a line means "credit part of some lines".
  document.querySelectorAll("[data-credit-form]").forEach(function (form) {
    var partial = form.querySelector('input[name="credit_scope"][value="lines"]');
    if (!partial) return;
    form.querySelectorAll('input[name^="line-"]').forEach(function (input) {
      input.addEventListener("input", function () {
        if (input.value.trim()) partial.checked = true;
      });
    });
  });

  var box = document.getElementById("stripe-pay");
  if (!box) return;
  var status = document.getElementById("pay-status");
  var button = document.getElementById("pay-button");
  function say(text) { status.textContent = text; }
  if (typeof window.Stripe !== "function") {
    button.disabled = true;
    say("The secure card form could not be loaded. Check your connection and reload the page, or pay by bank transfer.");
    return;
  }
  var stripe = window.Stripe(box.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: box.dataset.clientSecret });
  var payment = elements.create("payment");
  document.getElementById("payment-element").textContent = "";
  payment.mount("#payment-element");
  box.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say("Paying… please wait and do not close this page.");
    stripe.confirmPayment({
      elements: elements,
      confirmParams: { return_url: new URL(box.dataset.returnUrl, window.location.href).href }
    }).then(function (result) {
      // Only reached when the payment did not go through (success leaves the page).
      if (result.error) {
        say(result.error.message || "The payment did not go through. Nothing was taken.");
        button.disabled = false;
      }
    });
  });
})();
