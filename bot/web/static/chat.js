// Minimal chat page for the demo. Every text goes in as text, never as HTML.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var key = "booking-chat-sender";
  var sender = localStorage.getItem(key);
  if (!sender) {
    sender = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    localStorage.setItem(key, sender);
  }
  // A host page may set window.BOOKING_CHAT = {person: {...}, company: {...}, queue: "sales"}.
  var host = window.BOOKING_CHAT || {};
  function metadata() {
    var m = { locale: navigator.language };
    try { m.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* older browsers */ }
    ["person", "company", "queue"].forEach(function (k) { if (host[k]) { m[k] = host[k]; } });
    return m;
  }
  function appendText(el, text) {
    // Links become anchors; the rest stays plain text.
    var parts = String(text).split(/(https?:\/\/[^\s<>"]+)/g);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var a = document.createElement("a");
        a.href = part; a.textContent = part; a.target = "_blank"; a.rel = "noopener noreferrer";
        el.appendChild(a);
      } else if (part) {
        el.appendChild(document.createTextNode(part));
      }
    });
  }
  function add(cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    appendText(li, text);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }
  function render(messages) {
    messages.forEach(function (m) {
      var li = add("bot", m.text || "");
      if (Array.isArray(m.buttons) && m.buttons.length) {
        var box = document.createElement("div");
        box.className = "buttons";
        box.setAttribute("role", "group");
        m.buttons.forEach(function (b) {
          var btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = b.title;
          btn.addEventListener("click", function () {
            box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
            send(b.payload, b.title);
          });
          box.appendChild(btn);
        });
        li.appendChild(box);
      }
    });
  }
  function send(message, shown) {
    add("user", shown || message);
    return fetch("/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message, metadata: metadata() })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.error || "The assistant is not reachable right now."); }
        render(body);
      });
    }).catch(function (e) { add("error", e.message); });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
})();
