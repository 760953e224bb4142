/* Composer: show a section per chosen account, add/remove thread parts, and keep the
   autosave from racing a real submit. The preview and autosave themselves are htmx. */
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form) return;

  function refresh() {
    form.dispatchEvent(new Event("refresh", { bubbles: true }));
  }

  function syncSections() {
    form.querySelectorAll("[data-account-toggle]").forEach(function (box) {
      var section = document.getElementById("variant-" + box.dataset.accountToggle);
      if (section) section.hidden = !box.checked;
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-account-toggle]")) syncSections();
  });

  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-part]");
    if (add) {
      var holder = add.closest(".thread-parts");
      var row = document.createElement("div");
      row.className = "thread-part";
      var area = document.createElement("textarea");
      area.name = holder.dataset.name;
      area.rows = 3;
      area.setAttribute("aria-label", add.dataset.partLabel || "");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary small";
      remove.setAttribute("data-remove-part", "");
      remove.textContent = add.dataset.removeLabel || "×";
      row.appendChild(area);
      row.appendChild(remove);
      holder.insertBefore(row, add);
      area.focus();
      refresh();
      return;
    }
    var removeButton = event.target.closest("[data-remove-part]");
    if (removeButton) {
      removeButton.closest(".thread-part").remove();
      refresh();
    }
  });

  /* A real submit must not race the autosave: wait for a running one (it may be creating
     the post, whose id the submit then carries), and cancel any that is still pending. */
  var autosave = document.getElementById("autosave-trigger");
  var saving = false;
  var waitingSubmitter = null;
  if (autosave) {
    autosave.addEventListener("htmx:beforeRequest", function (event) {
      if (form.dataset.submitting) { event.preventDefault(); return; }
      saving = true;
    });
    autosave.addEventListener("htmx:afterRequest", function () {
      saving = false;
      if (waitingSubmitter !== null) {
        var submitter = waitingSubmitter;
        waitingSubmitter = null;
        setTimeout(function () { form.requestSubmit(submitter || undefined); }, 0);
      }
    });
  }
  form.addEventListener("submit", function (event) {
    if (saving) {
      event.preventDefault();
      waitingSubmitter = event.submitter || false;
      return;
    }
    form.dataset.submitting = "1";
  });

  syncSections();
})();
