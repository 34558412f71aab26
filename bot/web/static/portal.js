// Portal: the token picker (the { } button) and the live preview of the invitation.
// Everything the server returns is inserted as text, never as HTML.
(function () {
  "use strict";
  var form = document.getElementById("invitation");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body]");
  var subject = form.querySelector("input[name=subject]");
  var button = document.getElementById("token-button");
  var list = document.getElementById("token-list");
  var options = Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
  var target = body;
  [body, subject].forEach(function (el) { el.addEventListener("focus", function () { target = el; }); });

  function open() {
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    options[0].focus();
  }
  function close(refocus) {
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (refocus) { target.focus(); }
  }
  function insert(token) {
    var start = target.selectionStart, end = target.selectionEnd, value = target.value;
    if (typeof start !== "number") { start = end = value.length; }
    target.value = value.slice(0, start) + token + value.slice(end);
    var caret = start + token.length;
    close(true);
    target.setSelectionRange(caret, caret);
    schedule();
  }
  button.addEventListener("click", function () { if (list.hidden) { open(); } else { close(true); } });
  options.forEach(function (opt, i) {
    opt.addEventListener("click", function () { insert(opt.getAttribute("data-token")); });
    opt.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown") { ev.preventDefault(); options[(i + 1) % options.length].focus(); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); options[(i - 1 + options.length) % options.length].focus(); }
      else if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); insert(opt.getAttribute("data-token")); }
      else if (ev.key === "Escape" || ev.key === "Tab") { ev.preventDefault(); close(true); }
    });
  });

  var preview = document.getElementById("preview");
  var previewSubject = document.getElementById("preview-subject");
  var timer = null;
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  function refresh() {
    var data = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (json) {
      if (!json) { return; }
      previewSubject.textContent = json.subject;
      preview.textContent = json.body;
      preview.setAttribute("data-problem", json.problem || "");
      var note = document.getElementById("preview-problem");
      if (!note) {
        note = document.createElement("p");
        note.id = "preview-problem";
        note.className = "error";
        preview.parentNode.appendChild(note);
      }
      note.textContent = json.problem || "";
      note.hidden = !json.problem;
    });
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
