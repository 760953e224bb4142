/* The inbox's keyboard and live-update behaviour (no inline script: see docs/security.md).
   j / k: next / previous conversation; a: assign to me; c: close; r: reply.
   The list's live refresh waits while rows are ticked for a bulk action or the list has
   focus, so nothing the user is doing is swept away. */
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll(".conversation-row"));
  }

  function open(row) {
    var link = row && row.querySelector(".conversation-link");
    if (!link) return;
    rows().forEach(function (r) { r.classList.remove("current"); });
    row.classList.add("current");
    link.focus();
    link.click();
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.findIndex(function (r) { return r.classList.contains("current"); });
    var next = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    open(all[next]);
  }

  function press(id) {
    var button = document.getElementById(id);
    if (button) button.click();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var actions = {
      j: function () { move(1); },
      k: function () { move(-1); },
      a: function () { press("assign-me"); },
      c: function () { press("close"); },
      r: function () { var box = document.getElementById("reply-text"); if (box) box.focus(); },
    };
    var action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select && select.dataset && select.dataset.fills) {
      var option = select.options[select.selectedIndex];
      var box = document.getElementById(select.dataset.fills);
      if (box && option && option.dataset.text) {
        box.value = option.dataset.text;
        box.focus();
      }
    }
  });

  // After the list refreshes, the open conversation's row is marked again (for j / k).
  document.addEventListener("htmx:load", function () {
    var open = document.getElementById("conversation");
    if (!open) return;
    rows().forEach(function (r) {
      r.classList.toggle("current", r.dataset.conversation === open.dataset.conversation);
    });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "inbox-list" && event.detail.requestConfig.verb === "get") {
      if (elt.querySelector("input[type=checkbox]:checked") || elt.contains(document.activeElement) && document.activeElement.tagName !== "A") {
        event.preventDefault();
      }
    }
  });
})();
