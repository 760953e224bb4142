/* Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can
   forbid inline script and inline event handlers (see docs/security.md):
   - data-autosubmit: submit the element's form when it changes (workspace switcher);
   - data-confirm on a form: ask before submitting;
   - data-colour: a campaign colour, set as the --c custom property (no style attribute);
   - data-clear-after-request: empty a file input after its htmx upload, clearing the
     status element named by data-status first. */
(function () {
  "use strict";

  function paint(root) {
    (root || document).querySelectorAll("[data-colour]").forEach(function (el) {
      if (/^#[0-9a-fA-F]{3,8}$/.test(el.dataset.colour)) {
        el.style.setProperty("--c", el.dataset.colour);
      }
    });
  }

  document.addEventListener("change", function (event) {
    var field = event.target.closest && event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("htmx:beforeRequest", function (event) {
    var input = event.detail.elt;
    if (input && input.dataset && input.dataset.status) {
      var status = document.getElementById(input.dataset.status);
      if (status) status.textContent = "";
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var input = event.detail.elt;
    if (input && input.hasAttribute && input.hasAttribute("data-clear-after-request")) {
      input.value = "";
    }
  });

  document.addEventListener("htmx:load", function (event) {
    paint(event.detail.elt);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { paint(); });
  } else {
    paint();
  }
})();
