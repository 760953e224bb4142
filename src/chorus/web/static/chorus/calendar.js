/* Calendar drag and drop: drop a post on a day (keeps its time of day) or on a week-view
   hour (takes that hour), POST the new local date and time, and snap back on refusal.
   Listeners sit on the document, so calendars swapped in by htmx work unchanged. */
(function () {
  "use strict";
  var dragged = null;
  var origin = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function say(text, isError) {
    var box = document.getElementById("calendar-message");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    box.classList.toggle("error", !!isError);
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function dropTarget(event) {
    return event.target.closest ? event.target.closest("[data-drop]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var chip = event.target.closest && event.target.closest(".cal-post[data-move-url]");
    if (!chip) return;
    dragged = chip;
    origin = { parent: chip.parentNode, next: chip.nextSibling };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.dataset.post);
    chip.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".drop-hover").forEach(function (el) {
      el.classList.remove("drop-hover");
    });
  });

  document.addEventListener("dragover", function (event) {
    var cell = dropTarget(event);
    if (!dragged || !cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("drop-hover");
  });

  document.addEventListener("dragleave", function (event) {
    var cell = dropTarget(event);
    if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("drop-hover");
  });

  document.addEventListener("drop", function (event) {
    var cell = dropTarget(event);
    if (!dragged || !cell) return;
    event.preventDefault();
    cell.classList.remove("drop-hover");
    var chip = dragged;
    var back = origin;
    dragged = null;
    var calendar = document.getElementById("calendar");
    var kept = chip.dataset.time || (calendar && calendar.dataset.noTime) || "09:00";
    var time = kept;
    if (cell.dataset.hour !== undefined) {
      var minutes = kept.split(":")[1] || "00";
      time = pad(parseInt(cell.dataset.hour, 10)) + ":" + minutes;
    }
    var date = cell.dataset.date;
    if (chip.parentNode && chip.closest("[data-drop]") === cell && time === chip.dataset.time) return;
    var list = cell.querySelector(".cal-posts") || cell;
    list.appendChild(chip);
    chip.classList.add("saving");
    var body = new URLSearchParams({ date: date, time: time });
    fetch(chip.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return { error: (calendar && calendar.dataset.error) || response.statusText };
          })
          .then(function (data) {
            if (!response.ok || !data.ok) {
              throw new Error(data.error || (calendar && calendar.dataset.error) || "");
            }
            return data;
          });
      })
      .then(function (data) {
        chip.dataset.time = data.time;
        var label = chip.querySelector(".cal-time");
        if (label) label.textContent = data.time;
        chip.classList.remove("saving");
        say(data.message, false);
      })
      .catch(function (error) {
        chip.classList.remove("saving");
        back.parent.insertBefore(chip, back.next && back.next.parentNode === back.parent ? back.next : null);
        say(error.message, true);
      });
  });
})();
