// Where the keyboard focus goes after a form is sent, so people using a keyboard or a screen
// reader land on what just happened: the first field Django marked invalid, else the message the
// action left (success or failure). Only after a submission: never while someone types.
(function () {
  "use strict";

  function focusOutcome(root) {
    var target = root.querySelector("[aria-invalid='true']") || root.querySelector(".messages");
    if (target) target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusOutcome(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail && event.detail.requestConfig;
    var trigger = config && config.triggeringEvent;
    if (trigger && trigger.type === "submit") focusOutcome(document);
  });
})();
