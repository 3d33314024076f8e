// The item page's reply editor: saved replies inserted with one click, the draft checker's
// findings while typing (debounced POST to /items/{id}/check, rendered as text, never as
// HTML), the blamed spans marked in a preview under the editor, and a presence ping every
// minute so that colleagues see who has the item open.
(function () {
  "use strict";
  var shell = document.querySelector("[data-item]");
  if (!shell) return;
  var itemId = shell.dataset.item;
  var csrf = document.querySelector("input[name=csrf_token]");
  var editor = document.getElementById("editor");
  var text = document.getElementById("reply-text");
  var replyId = document.getElementById("saved-reply-id");
  var list = document.getElementById("findings");
  var preview = document.getElementById("reply-preview");
  var state = document.getElementById("check-state");
  var SEVERITY = { block: "Blockiert", warn: "Hinweis" };
  var timer = null;
  var asked = 0;

  function post(url, fields) {
    var body = new URLSearchParams();
    body.append("csrf_token", csrf.value);
    Object.keys(fields).forEach(function (key) { body.append(key, fields[key]); });
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" });
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function showPreview(findings) {
    var value = text.value;
    var spans = findings
      .filter(function (f) { return f.end > f.start && f.end - f.start < value.length; })
      .sort(function (a, b) { return a.start - b.start; });
    preview.textContent = "";
    var at = 0;
    spans.forEach(function (f) {
      if (f.start < at) return;
      preview.appendChild(document.createTextNode(value.slice(at, f.start)));
      var mark = element("mark", "sev-" + f.severity, value.slice(f.start, f.end));
      mark.title = f.message;
      preview.appendChild(mark);
      at = f.end;
    });
    preview.appendChild(document.createTextNode(value.slice(at)));
    preview.hidden = spans.length === 0;
  }

  function showFindings(findings) {
    list.textContent = "";
    if (!findings.length) {
      list.appendChild(element("li", "finding none muted", text.value.trim() ? "Keine Hinweise." : "Noch kein Text."));
    }
    findings.forEach(function (f) {
      var item = element("li", "finding sev-" + f.severity);
      item.appendChild(element("span", "sev", SEVERITY[f.severity] || f.severity));
      item.appendChild(element("code", "rule", f.rule));
      item.appendChild(element("span", "message", f.message));
      item.dataset.start = f.start;
      item.dataset.end = f.end;
      list.appendChild(item);
    });
    showPreview(findings);
  }

  function check() {
    var ticket = ++asked;
    state.textContent = "prüfe …";
    post(editor.dataset.check, { text: text.value, saved_reply_id: replyId.value })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        if (ticket !== asked) return;
        showFindings(data.findings);
        state.textContent = "geprüft";
      })
      .catch(function () { state.textContent = "Prüfung gerade nicht möglich"; });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }

  if (editor && text) {
    text.addEventListener("input", later);
    document.querySelectorAll("[data-insert]").forEach(function (button) {
      button.addEventListener("click", function () {
        text.value = button.dataset.text;
        replyId.value = button.dataset.replyId;
        text.focus();
        check();
      });
    });
    if (text.value.trim()) check(); else preview.hidden = true;
  }

  // A finding selects its span in the editor.
  document.addEventListener("click", function (event) {
    var finding = event.target.closest && event.target.closest(".finding[data-start]");
    if (!finding || !text) return;
    text.focus();
    text.setSelectionRange(Number(finding.dataset.start), Number(finding.dataset.end));
  });

  // Arriving from the queue's r/e/d keys: open the part asked for (after the browser has
  // scrolled to the fragment, which would take the focus back).
  window.addEventListener("load", function () {
    var target = { "#antwort": "reply-text", "#eskalieren": "escalate", "#verwerfen": "dismiss" }[window.location.hash];
    var part = target && document.getElementById(target);
    if (part && part.tagName === "DETAILS") { part.open = true; part = part.querySelector("input, select, textarea"); }
    if (part) part.focus();
  });

  setInterval(function () { post("/items/" + itemId + "/presence", {}); }, 60000);
})();
