// Keyboard use of the queue and item pages: j/k move, x selects, Enter/o opens, u goes back,
// / jumps to the filters, ? toggles the help. Plain DOM, no framework; keys are ignored while
// a form field has the focus.
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

  function toggleChecked() {
    if (current < 0) return;
    var box = rows[current].querySelector("input[type=checkbox]");
    box.checked = !box.checked;
    rows[current].classList.toggle("checked", box.checked);
  }

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (event.target.tagName === "INPUT") {
        row.classList.toggle("checked", event.target.checked);
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
    else if ((key === "o" || (key === "Enter" && event.target === document.body)) && current >= 0) { window.location = rows[current].dataset.href; }
    else if (key === "u" && document.querySelector("[data-back]")) { window.location = "/"; }
    else if (key === "/" && document.getElementById("filters")) { document.querySelector("#filters select").focus(); }
    else { return; }
    event.preventDefault();
  });
})();
