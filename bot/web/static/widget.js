/*! Booking chat widget. Embed on any page (README, "Chat widget"):
 *
 *   <script src="https://YOUR-BOOKING-HOST/widget.js" data-queue="sales" defer></script>
 *
 * Attributes: data-queue (queue slug), data-rasa-url (where Rasa's socket.io is: an origin such
 * as https://chat.example.com, or "same-origin" behind deploy/nginx.conf; default: the host of
 * this script, Rasa's port). A page may set window.BOOKING_CHAT = {person: {...}, company: {...},
 * queue: "..."} before the snippet. Talks to Rasa over socket.io (WebSocket); falls back to the
 * web app's POST /chat relay when socket.io does not connect within 4 s. Every text is inserted
 * as text, never as HTML. Every class and id starts with "bkc-"; the host page's styles are not
 * touched.
 */
(function () {
  "use strict";
  if (window.__bkcWidget) { return; } // pasted twice: one widget
  window.__bkcWidget = true;

  var script = document.currentScript;
  if (!script) { // very old browsers: the last script whose src ends in /widget.js
    var all = document.querySelectorAll("script[src]");
    for (var i = all.length - 1; i >= 0 && !script; i--) {
      if (/\/widget\.js(\?|#|$)/.test(all[i].src)) { script = all[i]; }
    }
  }
  if (!script) { return; }

  var SRC = new URL(script.src, location.href);
  var BASE = SRC.origin; // where widget.css, the socket.io client and POST /chat are
  var PORT = "__BKC_RASA_PORT__"; // filled in by the web app (RASA_PORT)
  if (!/^\d{1,5}$/.test(PORT)) { PORT = "5005"; }
  var CONNECT_TIMEOUT = 4000;
  var MAX_LOG = 50;
  var MAX_MESSAGE = 2000;

  function attr(name) { return (script.getAttribute(name) || "").trim(); }

  function rasaUrl() {
    var v = attr("data-rasa-url");
    if (v === "same-origin") { return BASE; }
    if (v) {
      try { return new URL(v, location.href).origin; } catch (e) { /* fall through */ }
    }
    return SRC.protocol + "//" + SRC.hostname + ":" + PORT;
  }

  // ---- storage (never fatal: storage may be disabled) ------------------------------------
  var memory = {};
  var store = {
    get: function (k) {
      try { var v = window.localStorage.getItem(k); return v === null ? memory[k] || null : v; } catch (e) { return memory[k] || null; }
    },
    set: function (k, v) {
      memory[k] = v;
      try { window.localStorage.setItem(k, v); } catch (e) { /* full or disabled */ }
    }
  };
  var K_SENDER = "bkc:sender", K_LOG = "bkc:log", K_OPEN = "bkc:open";

  function newId() {
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var j = 0; j < bytes.length; j++) { bytes[j] = Math.floor(Math.random() * 256); }
    }
    return "bkc" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var sender = store.get(K_SENDER);
  if (!sender || !/^[A-Za-z0-9_-]{1,64}$/.test(sender)) {
    sender = newId();
    store.set(K_SENDER, sender);
  }

  var transcript = [];
  try {
    var saved = JSON.parse(store.get(K_LOG) || "[]");
    if (Array.isArray(saved)) { transcript = saved.filter(function (m) { return m && typeof m.text === "string"; }); }
  } catch (e) { transcript = []; }
  function saveLog() {
    if (transcript.length > MAX_LOG) { transcript = transcript.slice(-MAX_LOG); }
    store.set(K_LOG, JSON.stringify(transcript));
  }

  // ---- the few words of the widget itself, in the visitor's language ----------------------
  var WORDS = {
    en: { open: "Chat with us", title: "Chat with us", close: "Close chat", label: "Your message", send: "Send",
          placeholder: "Type a message…", typing: "The assistant is typing…", log: "Conversation" },
    fr: { open: "Discuter avec nous", title: "Discuter avec nous", close: "Fermer la discussion", label: "Votre message",
          send: "Envoyer", placeholder: "Écrivez un message…", typing: "L’assistant écrit…", log: "Conversation" },
    de: { open: "Chatten Sie mit uns", title: "Chatten Sie mit uns", close: "Chat schließen", label: "Ihre Nachricht",
          send: "Senden", placeholder: "Nachricht eingeben…", typing: "Der Assistent schreibt…", log: "Unterhaltung" },
    es: { open: "Chatea con nosotros", title: "Chatea con nosotros", close: "Cerrar el chat", label: "Tu mensaje",
          send: "Enviar", placeholder: "Escribe un mensaje…", typing: "El asistente está escribiendo…", log: "Conversación" },
    pt: { open: "Fale conosco", title: "Fale conosco", close: "Fechar o chat", label: "Sua mensagem", send: "Enviar",
          placeholder: "Escreva uma mensagem…", typing: "O assistente está a escrever…", log: "Conversa" },
    it: { open: "Chatta con noi", title: "Chatta con noi", close: "Chiudi la chat", label: "Il tuo messaggio", send: "Invia",
          placeholder: "Scrivi un messaggio…", typing: "L’assistente sta scrivendo…", log: "Conversazione" }
  };
  var LANG = String(navigator.language || "en").slice(0, 2).toLowerCase();
  var T = WORDS[LANG] || WORDS.en;

  // ---- metadata (DESIGN.md contract 3), read at every send ---------------------------------
  function metadata() {
    var m = {};
    if (navigator.language) { m.locale = navigator.language; }
    try {
      var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz) { m.timezone = tz; }
    } catch (e) { /* no Intl: the queue's zone applies */ }
    var host = window.BOOKING_CHAT;
    host = host && typeof host === "object" ? host : {};
    if (host.person && typeof host.person === "object") { m.person = host.person; }
    if (host.company && typeof host.company === "object") { m.company = host.company; }
    var queue = typeof host.queue === "string" && host.queue ? host.queue : attr("data-queue");
    if (queue) { m.queue = queue; }
    return m;
  }

  // ---- DOM -----------------------------------------------------------------------------------
  function el(tag, cls, attrs) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); }
    return node;
  }

  var root = el("div", "bkc-root", { id: "bkc-root", lang: T === WORDS.en ? "en" : LANG });
  root.hidden = true; // shown once widget.css is in: no unstyled flash
  var panel = el("div", "bkc-panel", { id: "bkc-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "bkc-title" });
  panel.hidden = true;
  var header = el("div", "bkc-header");
  var title = el("h2", "bkc-title", { id: "bkc-title" });
  title.textContent = T.title;
  var closeBtn = el("button", "bkc-close", { type: "button", "aria-label": T.close, title: T.close });
  closeBtn.textContent = "×";
  header.appendChild(title);
  header.appendChild(closeBtn);
  var log = el("div", "bkc-log", { id: "bkc-log", role: "log", "aria-live": "polite", "aria-label": T.log, tabindex: "0" });
  var typing = el("div", "bkc-typing", { id: "bkc-typing", role: "status" });
  var form = el("form", "bkc-form", { id: "bkc-form", autocomplete: "off", novalidate: "" });
  var label = el("label", "bkc-sr", { "for": "bkc-input" });
  label.textContent = T.label;
  var input = el("input", "bkc-input", { id: "bkc-input", type: "text", name: "message", maxlength: String(MAX_MESSAGE), placeholder: T.placeholder, autocomplete: "off" });
  var sendBtn = el("button", "bkc-send", { type: "submit" });
  sendBtn.textContent = T.send;
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  var launcher = el("button", "bkc-launcher", { id: "bkc-launcher", type: "button", "aria-expanded": "false", "aria-controls": "bkc-panel" });
  launcher.textContent = T.open;
  root.appendChild(panel);
  root.appendChild(launcher);

  // Text with http(s) links made into anchors; nothing is ever parsed as HTML.
  var URL_RE = /https?:\/\/[^\s<>"']+/g;
  function appendText(node, text) {
    var s = String(text), last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(s)) !== null) {
      var url = m[0].replace(/[.,;:!?)\]}]+$/, ""); // trailing punctuation is the sentence's
      if (m.index > last) { node.appendChild(document.createTextNode(s.slice(last, m.index))); }
      var a = document.createElement("a");
      a.className = "bkc-link";
      a.href = url;
      a.textContent = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      node.appendChild(a);
      last = m.index + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < s.length) { node.appendChild(document.createTextNode(s.slice(last))); }
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function disableButtons() {
    var olds = log.querySelectorAll(".bkc-buttons button");
    for (var b = 0; b < olds.length; b++) { olds[b].disabled = true; }
  }

  function render(entry, live) {
    var who = entry.who === "user" || entry.who === "error" ? entry.who : "bot";
    var msg = el("div", "bkc-msg bkc-msg-" + who);
    if (who === "user") { disableButtons(); }
    var bubble = el("p", "bkc-bubble");
    appendText(bubble, entry.text);
    msg.appendChild(bubble);
    if (Array.isArray(entry.buttons) && entry.buttons.length) {
      var group = el("div", "bkc-buttons", { role: "group" });
      entry.buttons.forEach(function (b) {
        var btn = el("button", "bkc-choice", { type: "button" });
        btn.textContent = b.title;
        btn.disabled = !!entry.done;
        btn.addEventListener("click", function () {
          entry.done = true;
          send(b.payload, b.title);
        });
        group.appendChild(btn);
      });
      msg.appendChild(group);
    }
    log.appendChild(msg);
    if (live) { scrollDown(); }
  }

  function add(entry) {
    if (entry.who === "user") { transcript.forEach(function (h) { if (h.buttons) { h.done = true; } }); }
    transcript.push(entry);
    saveLog();
    render(entry, true);
  }

  // Rasa's REST channel: {text, buttons, image, custom}; socket.io: {text, quick_replies, attachment}.
  function fromBot(m) {
    if (!m || typeof m !== "object") { return; }
    var raw = Array.isArray(m.buttons) ? m.buttons : Array.isArray(m.quick_replies) ? m.quick_replies : [];
    var buttons = raw.filter(function (b) { return b && typeof b.title === "string" && typeof b.payload === "string"; })
      .map(function (b) { return { title: b.title, payload: b.payload }; });
    var text = typeof m.text === "string" ? m.text : "";
    var image = typeof m.image === "string" ? m.image
      : m.attachment && m.attachment.payload && typeof m.attachment.payload.src === "string" ? m.attachment.payload.src : "";
    if (image && /^https?:\/\//.test(image)) { text = text ? text + "\n" + image : image; } // a link, never a remote load
    if (!text && !buttons.length) { return; }
    stopTyping();
    add({ who: "bot", text: text, buttons: buttons.length ? buttons : undefined });
  }

  var typingTimer = null;
  function startTyping() {
    typing.textContent = T.typing;
    root.classList.add("bkc-busy");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 60000);
  }
  function stopTyping() {
    clearTimeout(typingTimer);
    typing.textContent = "";
    root.classList.remove("bkc-busy");
  }

  // ---- transport: socket.io first, REST (POST /chat) as fallback ---------------------------
  var RASA = rasaUrl();
  var mode = "connecting"; // "connecting" | "socket.io" | "rest"
  var socket = null;
  var confirmed = false;
  var queued = [];
  var restChain = Promise.resolve();

  function setMode(m) {
    mode = m;
    root.setAttribute("data-bkc-transport", m);
  }
  setMode("connecting");

  function viaRest(message) {
    var body = JSON.stringify({ sender: sender, message: message, metadata: metadata() });
    restChain = restChain.then(function () {
      return fetch(BASE + "/chat", { method: "POST", headers: { "Content-Type": "application/json" }, body: body })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (data) {
            if (!r.ok && data && Array.isArray(data.messages)) {  // refused, with a reply for the visitor
              data.messages.forEach(fromBot);
              stopTyping();
              return;
            }
            if (!r.ok || !Array.isArray(data)) {
              throw new Error(data && typeof data.error === "string" ? data.error : "The assistant is not reachable right now.");
            }
            data.forEach(fromBot);
            stopTyping();
          });
        })
        .catch(function (e) {
          stopTyping();
          add({ who: "error", text: e && e.message ? e.message : "The assistant is not reachable right now." });
        });
    });
  }

  function viaSocket(message) {
    socket.emit("user_uttered", { message: message, session_id: sender, customData: metadata() });
  }

  function deliver(message) {
    if (mode === "socket.io" && socket && socket.connected && confirmed) { viaSocket(message); }
    else if (mode === "connecting") { queued.push(message); }
    else { viaRest(message); }
  }

  function flush() {
    var q = queued;
    queued = [];
    q.forEach(deliver);
  }

  function fallBack() {
    if (mode === "rest") { return; }
    if (socket) { socket.close(); socket = null; }
    setMode("rest");
    flush();
  }

  function loadSocketClient(done, failed) {
    var previous = window.io; // the host page's own socket.io client, if any, is left as it was
    var s = document.createElement("script");
    s.src = BASE + "/static/vendor/socket.io.min.js";
    s.async = true;
    s.onload = function () {
      var ours = window.io;
      if (previous === undefined) { try { delete window.io; } catch (e) { window.io = undefined; } } else { window.io = previous; }
      if (typeof ours === "function") { done(ours); } else { failed(); }
    };
    s.onerror = failed;
    (document.head || document.documentElement).appendChild(s);
  }

  function connect() {
    var timer = setTimeout(fallBack, CONNECT_TIMEOUT);
    loadSocketClient(function (io) {
      if (mode === "rest") { return; }
      // WebSocket only: one connection, so no sticky sessions are needed behind a proxy (and no
      // CORS preflight). Rasa checks this page's Origin against WIDGET_ORIGINS all the same.
      socket = io(RASA, { transports: ["websocket"], reconnectionDelayMax: 10000 });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: sender });
      });
      socket.on("session_confirm", function () {
        confirmed = true;
        if (mode === "connecting") {
          clearTimeout(timer);
          setMode("socket.io");
          flush();
        }
      });
      socket.on("disconnect", function () { confirmed = false; }); // meanwhile: REST
      socket.on("bot_uttered", fromBot);
    }, function () {
      clearTimeout(timer);
      fallBack();
    });
  }

  function send(message, shown) {
    message = String(message).trim();
    if (!message) { return; }
    add({ who: "user", text: shown || message });
    startTyping();
    deliver(message.slice(0, MAX_MESSAGE));
  }

  // ---- open / close --------------------------------------------------------------------------
  function setOpen(open, focus) {
    panel.hidden = !open;
    root.classList.toggle("bkc-open", open);
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    store.set(K_OPEN, open ? "1" : "0");
    if (open) {
      scrollDown();
      if (focus) { input.focus(); }
    } else if (focus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });
  closeBtn.addEventListener("click", function () { setOpen(false, true); });
  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" || ev.key === "Esc") {
      ev.stopPropagation();
      setOpen(false, true);
    }
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    input.value = "";
    send(text);
  });

  function mount() {
    var css = el("link", null, { rel: "stylesheet", href: BASE + "/static/widget.css" });
    var shown = false;
    function show() { if (!shown) { shown = true; root.hidden = false; scrollDown(); } }
    css.addEventListener("load", show);
    css.addEventListener("error", show);
    setTimeout(show, 3000);
    (document.head || document.documentElement).appendChild(css);
    transcript.forEach(function (h) { render(h, false); });
    document.body.appendChild(root);
    if (store.get(K_OPEN) === "1") { setOpen(true, false); } // restored, without taking the page's focus
    connect();
  }

  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
