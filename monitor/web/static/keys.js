// Keyboard use of the queue and item pages: j/k move, x selects, Enter/o opens, a assigns to
// me, r replies, e escalates, d dismisses, u goes back, / jumps to the filters, ? toggles the
// help. Plain DOM, no framework; keys are ignored while a form field has the focus.
(function () {
  "use strict";
  var help = document.getElementById("help");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr"));
  var current = -1;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  function select(index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) rows[current].classList.remove("current");
    current = index;
    var row = rows[current];
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function countChecked() {
    var count = document.getElementById("bulk-count");
    if (count) count.textContent = "Auswahl (x): " + document.querySelectorAll("#queue tbody input:checked").length;
  }

  function toggleChecked() {
    if (current < 0) return;
    var box = rows[current].querySelector("input[type=checkbox]");
    box.checked = !box.checked;
    rows[current].classList.toggle("checked", box.checked);
    countChecked();
  }

  // "a" on a queue row: the row-action form posts "Nehmen" for it and comes back here.
  function takeCurrent() {
    var form = document.getElementById("row-action");
    if (!form || current < 0) return false;
    var row = rows[current];
    form.action = "/items/" + row.dataset.id + "/take";
    form.elements.version.value = row.dataset.version;
    form.elements.next.value = window.location.pathname + window.location.search;
    form.submit();
    return true;
  }

  // r, e, d: on the queue open the current row's item at that part, on the item page go there.
  function openPart(hash, id) {
    var part = document.getElementById(id);
    if (part) {
      if (part.tagName === "DETAILS") { part.open = true; part = part.querySelector("input, select, textarea"); }
      part.focus();
      return true;
    }
    if (current < 0) return false;
    window.location = rows[current].dataset.href + hash;
    return true;
  }

  function assignToMe() {
    var take = document.getElementById("take");
    if (take) { take.click(); return true; }
    return takeCurrent();
  }

  // The bulk form shows the fields its chosen action needs.
  var bulkAction = document.getElementById("bulk-action");
  function showBulkFields() {
    document.querySelectorAll("#bulk [data-for]").forEach(function (label) {
      label.hidden = label.dataset.for.split(" ").indexOf(bulkAction.value) < 0;
    });
  }
  if (bulkAction) { bulkAction.addEventListener("change", showBulkFields); showBulkFields(); }

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (event.target.tagName === "INPUT") {
        row.classList.toggle("checked", event.target.checked);
        countChecked();
        return;
      }
      select(index);
    });
  });

  document.querySelectorAll("[data-help-toggle]").forEach(function (button) {
    button.addEventListener("click", function () { toggleHelp(); });
  });
  if (help) {
    help.addEventListener("click", function (event) {
      if (event.target === help) toggleHelp(false);
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (key === "?") { toggleHelp(); }
    else if (key === "Escape") { toggleHelp(false); }
    else if (key === "j") { select(current + 1); }
    else if (key === "k") { select(current < 0 ? 0 : current - 1); }
    else if (key === "x") { toggleChecked(); }
    else if (key === "a") { if (!assignToMe()) return; }
    else if (key === "r") { if (!openPart("#antwort", "reply-text")) return; }
    else if (key === "e") { if (!openPart("#eskalieren", "escalate")) return; }
    else if (key === "d") { if (!openPart("#verwerfen", "dismiss")) return; }
    else if ((key === "o" || (key === "Enter" && event.target === document.body)) && current >= 0) { window.location = rows[current].dataset.href; }
    else if (key === "u" && document.querySelector("[data-back]")) { window.location = "/"; }
    else if (key === "/" && document.getElementById("filters")) { document.querySelector("#filters select").focus(); }
    else { return; }
    event.preventDefault();
  });
})();
