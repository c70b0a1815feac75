/*
 * Mandatbot chat widget: one <script> tag on an intranet page.
 *
 *   <script src="https://mandatbot.example.dk/static/mandat-widget.js"
 *           data-server="https://mandatbot.example.dk" data-token-url="/intranet/mandatbot-token" defer></script>
 *
 * or a config object set before the script: window.MandatbotConfig = {server, tokenUrl | token | getToken, ...}.
 * Settings (data-* attribute / config key):
 *   server      (data-server)      socket.io base URL of the Rasa server (default: the page's origin)
 *   path        (data-path)        socket.io path (default /socket.io)
 *   tokenUrl    (data-token-url)   URL returning {"token": "<JWT>"} for the logged-in employee; fetched on every
 *                                  (re)connect, with the page's cookies
 *   token       (data-token)       a fixed token instead (expires: prefer tokenUrl or getToken)
 *   getToken    (config only)      async function returning a token
 *   unit        (data-unit)        one of the token's units (default: the first)
 *   open        (data-open)        "true": the chat starts open
 *   title       (data-title)       header title (default "Mandatbot")
 *   transports  (data-transports)  comma-separated socket.io transports (default "websocket")
 *   examples    (config only)      example questions in the welcome
 *
 * The identity, the conversation and the unit are decided by the server from the verified token.
 */
import { io } from "socket.io-client";
import css from "./widget.css";

const DEFAULT_EXAMPLES = [
  "Må jeg selv ringe efter en vikar, når en kollega er syg?",
  "Må jeg købe ind til borgeren for 300 kr.?",
  "Hvad må jeg selv bestemme?",
];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const ICONS = {
  chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
  up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59"
    + "C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
};

function icon(name, rotate = false) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  if (rotate) svg.setAttribute("transform", "rotate(180)");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

function readConfig(script) {
  const global = window.MandatbotConfig || {};
  const data = (script && script.dataset) || {};
  const pick = (key, dataKey) => (global[key] !== undefined ? global[key] : data[dataKey || key]);
  const transports = pick("transports");
  return {
    server: pick("server") || window.location.origin,
    path: pick("path") || "/socket.io",
    tokenUrl: pick("tokenUrl"),
    token: pick("token"),
    getToken: global.getToken,
    unit: pick("unit"),
    open: String(pick("open") || "") === "true",
    title: pick("title") || "Mandatbot",
    transports: Array.isArray(transports) ? transports : String(transports || "websocket").split(","),
    examples: global.examples || DEFAULT_EXAMPLES,
  };
}

async function fetchToken(config) {
  if (typeof config.getToken === "function") return config.getToken();
  if (config.tokenUrl) {
    const reply = await fetch(config.tokenUrl, { credentials: "include", headers: { Accept: "application/json" } });
    if (!reply.ok) throw new Error(`token ${reply.status}`);
    return (await reply.json()).token;
  }
  return config.token;
}

function formatDkk(amount) {
  return `${Math.round(amount).toLocaleString("da-DK")} kr.`;
}

function adoptStyles(root) {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el("style", { text: css }));
  }
}

// After this long without an answer (ms) the widget says so and offers to send the message again:
// the action server's own budget (MANDAT_ACTION_BUDGET_S, 8 s) has then long passed.
const REPLY_TIMEOUT_MS = 20000;

class MandatWidget {
  constructor(config) {
    this.config = config;
    this.shown = 0; // messages shown that the server's history also has
    this.refused = false;
    this.typingTimer = null;
    this.pending = null; // the payload sent last, until its answer is done
    this.lateNotice = null;
    this.build();
    this.connect();
    if (config.open) this.open(false);
  }

  build() {
    const host = el("div", { id: "mandatbot-widget" });
    document.body.append(host);
    const root = host.attachShadow({ mode: "open" });
    adoptStyles(root);
    this.root = root;
    this.launcher = el("button", {
      class: "mb-launcher", type: "button", "aria-expanded": "false", "aria-controls": "mb-panel",
      onclick: () => this.open(true),
    }, icon("chat"), "Spørg Mandatbot");
    this.subtitle = el("span", { class: "mb-subtitle", text: "Hvem beslutter?" });
    this.status = el("p", { class: "mb-status", role: "status" });
    this.log = el("div", {
      class: "mb-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Samtale med Mandatbot", tabindex: "0",
    });
    this.typing = el("div", { class: "mb-typing", hidden: true },
      el("span", { class: "mb-dots", "aria-hidden": "true" }, el("span"), el("span"), el("span")),
      el("span", { text: "Mandatbot skriver …" }));
    this.typingStatus = el("p", { class: "mb-sr", role: "status" });
    this.input = el("textarea", {
      id: "mb-input", class: "mb-input", rows: "1", placeholder: "Skriv dit spørgsmål …", autocomplete: "off",
      maxlength: "2000", onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); this.submit(); }
      },
    });
    this.send = el("button", { class: "mb-send", type: "submit", text: "Send" });
    const form = el("form", { class: "mb-form", onsubmit: (event) => { event.preventDefault(); this.submit(); } },
      el("label", { class: "mb-sr", for: "mb-input", text: "Skriv dit spørgsmål til Mandatbot" }),
      this.input, this.send);
    this.panel = el("section", {
      id: "mb-panel", class: "mb-panel", hidden: true, "aria-labelledby": "mb-title",
      onkeydown: (event) => { if (event.key === "Escape") this.close(); },
    },
    el("div", { class: "mb-header" },
      el("h2", { id: "mb-title", class: "mb-title" }, this.config.title, this.subtitle),
      el("button", { class: "mb-hbtn", type: "button", text: "Start forfra", onclick: () => this.restart() }),
      this.deleteButton = el("button", { class: "mb-hbtn", type: "button", text: "Slet min samtale",
        onclick: () => this.askDelete() }),
      el("button", { class: "mb-hbtn", type: "button", "aria-label": "Luk chatten", onclick: () => this.close() },
        el("span", { "aria-hidden": "true", text: "✕" }))),
    this.status, this.log, this.typing, this.typingStatus, form);
    root.append(el("div", { class: "mb", lang: "da" }, this.launcher, this.panel));
    this.renderWelcome("");
  }

  open(focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  }

  setStatus(text, error = false, retry = false) {
    this.status.textContent = text;
    this.status.classList.toggle("mb-error", error);
    if (retry) {
      this.status.append(el("button", { class: "mb-retry", type: "button", text: "Prøv igen", onclick: () => {
        this.refused = false; this.setStatus("Forbinder …"); this.socket.connect();
      } }));
    }
  }

  connect() {
    const { config } = this;
    this.setStatus("Forbinder …");
    this.socket = io(config.server, {
      path: config.path,
      transports: config.transports,
      auth: (callback) => {
        fetchToken(config).then(
          (token) => callback({ token: token || "", unit: config.unit || undefined }),
          () => callback({ token: "" }),
        );
      },
      reconnectionDelayMax: 10000,
    });
    const socket = this.socket;
    socket.on("connect", () => {
      this.refused = false;
      this.setStatus("");
      this.input.disabled = false;
      this.send.disabled = false;
      socket.emit("session_request", {});
    });
    socket.on("connect_error", (error) => {
      if (error && error.data && error.data.code) {
        this.refused = true;
        this.input.disabled = true;
        this.send.disabled = true;
        this.hideTyping();
        this.setStatus(`Chatten kan ikke forbinde: ${error.message}`, true, true);
      } else {
        this.setStatus("Ingen forbindelse til Mandatbot. Prøver igen …", true);
      }
    });
    socket.on("disconnect", (reason) => {
      this.hideTyping();
      if (reason === "io server disconnect") {
        // The server ended the connection (e.g. the login expired): get a new token and connect again.
        if (config.tokenUrl || config.getToken) socket.connect();
        else this.setStatus("Forbindelsen blev lukket. Genindlæs siden.", true);
      } else if (reason !== "io client disconnect") {
        this.setStatus("Forbindelsen blev afbrudt. Prøver igen …", true);
      }
    });
    socket.on("mandat_hello", (hello) => this.renderWelcome(hello && hello.name, hello && hello.unit_name));
    socket.on("mandat_history", (messages) => {
      if (!Array.isArray(messages)) return;
      for (const message of messages.slice(this.shown)) {
        if (message.from === "user") this.addUser(message.text, true);
        else this.addBot(message, true);
      }
      this.shown = Math.max(this.shown, messages.length);
    });
    // "Dit spørgsmål fra 3. december er besvaret: ..." and its answer (bot/notices.py), sent once after the
    // history. Not part of the conversation's history, so not counted in this.shown.
    socket.on("mandat_notice", (message) => {
      this.addBot(message || {}, false);
      const node = this.log.lastElementChild;
      if (node) node.setAttribute("data-notice", "true");
    });
    socket.on("bot_uttered", (message) => {
      this.removeLateNotice();
      this.addBot(message, false);
      this.shown += 1;
    });
    socket.on("mandat_done", () => { this.pending = null; this.hideTyping(); });
    socket.on("mandat_error", (error) => this.setStatus((error && error.message) || "Der skete en fejl.", true));
  }

  renderWelcome(name, unitName) {
    const examples = el("ul", { class: "mb-examples", "aria-label": "Eksempler på spørgsmål" },
      this.config.examples.map((question) => el("li", {},
        el("button", { class: "mb-chip", type: "button", text: question, onclick: () => this.ask(question) }))));
    const welcome = el("div", { class: "mb-welcome" },
      el("p", { text: name ? `Hej ${name}! Jeg er Mandatbot.` : "Hej! Jeg er Mandatbot." }),
      el("p", { text: "Spørg mig, om du selv må beslutte noget i dit arbejde. Jeg svarer ud fra jeres mandatkatalog"
        + (unitName ? ` for ${unitName}.` : ".") }),
      el("p", { text: "Prøv fx:" }),
      examples);
    if (unitName) this.subtitle.textContent = unitName;
    if (this.welcome) this.welcome.replaceWith(welcome);
    else this.log.prepend(welcome);
    this.welcome = welcome;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text || this.refused) return;
    this.input.value = "";
    this.ask(text);
  }

  ask(text) {
    this.addUser(text, false);
    this.shown += 1;
    this.emit(text);
  }

  emit(payload) {
    this.removeLateNotice();
    this.pending = payload;
    this.showTyping();
    this.socket.emit("user_uttered", { message: payload });
  }

  showTyping() {
    this.typing.hidden = false;
    this.typingStatus.textContent = "Mandatbot skriver …";
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.answerLate(), REPLY_TIMEOUT_MS);
  }

  // No answer after REPLY_TIMEOUT_MS: say so in the log (read out by screen readers) and offer to resend.
  answerLate() {
    this.hideTyping();
    const payload = this.pending;
    if (payload === null) return;
    this.removeLateNotice();
    const resend = el("button", { class: "mb-chip", type: "button", text: "Send igen", onclick: () => {
      this.removeLateNotice();
      if (this.socket.connected) this.emit(payload);
      else this.setStatus("Forbindelsen er afbrudt. Jeg prøver at forbinde igen …", true);
    } });
    this.lateNotice = el("div", { class: "mb-msg mb-bot mb-late", role: "group", "aria-label": "Svaret kommer ikke" },
      el("p", { text: "Svaret kommer ikke. Vil du sende igen?" }), resend);
    this.log.append(this.lateNotice);
    this.scroll(this.lateNotice);
  }

  removeLateNotice() {
    if (this.lateNotice) this.lateNotice.remove();
    this.lateNotice = null;
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
    this.typingStatus.textContent = "";
  }

  scroll(node) {
    // A long answer card is shown from its top (with the question or the notice before it); otherwise keep
    // the newest message in view.
    if (node && node.offsetHeight > this.log.clientHeight - 20) {
      const previous = node.previousElementSibling;
      const lead = previous && (previous.classList.contains("mb-user") || previous.hasAttribute("data-notice"));
      const top = lead ? previous : node;
      this.log.scrollTop = top.offsetTop - this.log.offsetTop - 8;
    } else {
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  addUser(text, fromHistory) {
    this.log.append(el("p", { class: "mb-msg mb-user", "data-history": fromHistory ? "true" : null },
      el("span", { class: "mb-sr", text: "Du skrev: " }), text));
    this.scroll();
  }

  addBot(message, fromHistory) {
    const custom = message.custom || {};
    let node;
    if (custom.type === "mandate_answer") node = this.answerCard(message.text || "", custom);
    else if (custom.type === "no_mandate") node = this.noAnswerCard(message.text || "", custom);
    else if (custom.type === "expert_reply") node = this.replyCard(message.text || "", custom);
    else node = el("p", { class: "mb-msg mb-bot" }, el("span", { class: "mb-sr", text: "Mandatbot: " }), message.text || "");
    if (fromHistory) node.setAttribute("data-history", "true");
    this.log.append(node);
    const replies = message.quick_replies || [];
    if (replies.length && !fromHistory) {
      const group = el("div", { class: "mb-replies", role: "group", "aria-label": "Svarmuligheder" },
        replies.map((reply) => el("button", { class: "mb-chip", type: "button", text: reply.title, onclick: () => {
          group.querySelectorAll("button").forEach((button) => { button.disabled = true; });
          this.addUser(reply.title, false);
          this.emit(reply.payload);
        } })));
      this.log.append(group);
    }
    this.scroll(node);
  }

  feedback(custom) {
    const label = el("span", { text: "Hjalp svaret?" });
    const buttons = [["up", "Ja, svaret hjalp"], ["down", "Nej, svaret hjalp ikke"]].map(
      ([value, aria]) => el("button", {
        class: "mb-thumb", type: "button", "aria-label": aria, "aria-pressed": "false", "data-value": value,
        onclick: (event) => {
          buttons.forEach((button) => { button.disabled = true; });
          event.currentTarget.setAttribute("aria-pressed", "true");
          const payload = { value, mandate_id: custom.mandate_id || null, question_id: custom.question_id ?? null };
          this.emit(`/feedback${JSON.stringify(payload)}`);
        },
      }, icon("up", value === "down")));
    return el("div", { class: "mb-feedback", role: "group", "aria-label": "Feedback på svaret" }, label, buttons);
  }

  answerCard(text, custom) {
    const lines = text.split("\n").map((line) => line.trim()).filter(Boolean);
    const find = (prefix) => {
      const line = lines.find((candidate) => candidate.startsWith(prefix));
      return line ? line.slice(prefix.length).trim().replace(/\.$/, "") : null;
    };
    const emne = ` Emne: ${custom.topic}.`;
    const headLine = lines.find((line) => line.endsWith(emne));
    const headline = headLine ? headLine.slice(0, -emne.length) : null;
    const intro = lines.filter((line) => line.startsWith("Det følger reglen fra før") || line.startsWith("(I answer"));
    const decision = ["employee", "team", "leader", "other"].includes(custom.decision) ? custom.decision : "other";
    // The server's tone (yes, caution, stop, leader) matches the headline; older payloads have none.
    const tone = ["yes", "caution", "stop", "leader"].includes(custom.tone) ? custom.tone : null;
    const badge = !tone && decision === "other" && custom.decided_by ? `Det beslutter ${custom.decided_by}` : custom.badge;
    const details = [];
    const limit = find("Beløbsgrænse:") || (custom.limit_dkk != null ? formatDkk(custom.limit_dkk) : null);
    if (limit) details.push(["Beløbsgrænse", limit]);
    const otherLimit = limit ? null : find("Grænse:");
    if (otherLimit) details.push(["Grænse", otherLimit]);
    if (custom.inform) details.push(["Giv besked til", custom.inform]);
    if (custom.how) details.push(["Sådan gør du", custom.how]);
    details.push(["Kilde", find("Kilde:") || custom.source || "jeres mandatkatalog"]);
    const contact = find("Spørgsmål:");
    if (contact) details.push(["Spørgsmål til", contact]);
    const closing = lines[lines.length - 1];
    const conditions = custom.conditions || [];
    // Over the limit, or when the question names a case the rule restricts, the employee or team
    // does not simply decide: shown in the leader's colours (the fallback for payloads without a tone).
    const look = custom.over_limit || custom.restriction || (tone && tone !== "yes") ? "leader" : decision;
    return el("article", { class: `mb-card mb-d-${look}${tone ? ` mb-tone-${tone}` : ""}`,
      "aria-label": `Svar om ${custom.topic}`, "data-mandate-id": custom.mandate_id, "data-decision": decision,
      "data-tone": tone || look },
    el("span", { class: "mb-sr", text: "Mandatbot: " }),
    el("p", { class: "mb-badge", text: badge }),
    el("h3", { text: custom.topic }),
    intro.map((line) => el("p", { text: line })),
    headline ? el("p", { class: "mb-headline", text: headline }) : null,
    custom.summary ? el("p", { text: custom.summary }) : null,
    custom.review_notice ? el("p", { class: "mb-stale", text: custom.review_notice }) : null,
    conditions.length ? [el("p", { class: "mb-label", text: "Betingelser" }),
      el("ul", {}, conditions.map((condition) => el("li", { text: condition })))] : null,
    (custom.exceptions || []).length ? [el("p", { class: "mb-label", text: "Undtagelser" }),
      el("ul", { class: "mb-exceptions" }, custom.exceptions.map((line) => el("li", { text: line })))] : null,
    el("dl", {}, details.map(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })])),
    closing && closing !== headLine ? el("p", { class: "mb-closing", text: closing }) : null,
    this.feedback(custom));
  }

  // A leader's one-off reply to a question the bot could not answer (bot/notices.py).
  replyCard(text, custom) {
    const who = custom.answered_by || "din leder";
    return el("article", { class: "mb-card mb-reply", "aria-label": `Svar fra ${who}`, "data-question-id": custom.question_id },
      el("span", { class: "mb-sr", text: "Mandatbot: " }),
      el("p", { class: "mb-badge", text: `Svar fra ${who}` }),
      el("p", { class: "mb-msg-text", text: custom.reply || text }));
  }

  noAnswerCard(text, custom) {
    return el("article", { class: "mb-card mb-d-none", "aria-label": "Intet svar i mandatkataloget" },
      el("span", { class: "mb-sr", text: "Mandatbot: " }),
      el("p", { class: "mb-badge", text: "Ikke i mandatkataloget" }),
      el("p", { class: "mb-msg-text", text }),
      this.feedback(custom));
  }

  // "Slet min samtale": a confirmation in the chat, then the server deletes the conversation and the stored
  // questions (actions/privacy_actions.py, bot/channels/tracker_store.py) and says so.
  askDelete() {
    if (this.confirmBox) { this.confirmBox.querySelector("button").focus(); return; }
    const close = () => { this.confirmBox.remove(); this.confirmBox = null; };
    this.confirmBox = el("div", { class: "mb-confirm", role: "alertdialog", "aria-labelledby": "mb-confirm-text" },
      el("p", { id: "mb-confirm-text", text: "Er du sikker? Det sletter din samtale og dine gemte spørgsmål." }),
      el("button", { class: "mb-chip mb-danger", type: "button", text: "Ja, slet", onclick: () => {
        close();
        this.socket.emit("user_uttered", { message: "/confirm_delete_conversation" });
        for (const node of [...this.log.children]) if (node !== this.welcome) node.remove();
        this.shown = 0;
        this.showTyping();
        this.input.focus();
      } }),
      el("button", { class: "mb-chip", type: "button", text: "Nej", onclick: () => { close(); this.deleteButton.focus(); } }));
    this.log.append(this.confirmBox);
    this.scroll(this.confirmBox);
    this.confirmBox.querySelector("button").focus();
  }

  restart() {
    this.socket.emit("user_uttered", { message: "/restart" });
    for (const node of [...this.log.children]) if (node !== this.welcome) node.remove();
    this.shown = 0;
    this.hideTyping();
    this.input.focus();
  }
}

/*
 * Cards only (the admin app's answer preview): <script src=".../mandat-widget.js" data-mode="cards">
 * connects to nothing and shows no chat; it defines window.MandatbotCards.render(host, message), which
 * renders one bot message ({text, custom, quick_replies}) into host's shadow root with the very code and
 * styles of the chat. The preview's buttons are inert: nothing is sent.
 */
function renderCard(host, message) {
  const root = host.shadowRoot || host.attachShadow({ mode: "open" });
  if (!root.firstChild && !(root.adoptedStyleSheets || []).length) adoptStyles(root);
  const view = Object.create(MandatWidget.prototype);
  view.log = el("div", { class: "mb-log mb-preview", "aria-label": "Sådan ser svaret ud i chatten" });
  view.scroll = () => {};
  view.emit = () => {};
  view.addBot(message || {}, false);
  view.log.querySelectorAll("button").forEach((button) => {
    button.disabled = true;
    button.title = "Kun i chatten";
  });
  for (const node of [...root.childNodes]) if (node.nodeName !== "STYLE") node.remove();
  root.append(el("div", { class: "mb", lang: "da" }, view.log));
  return view.log.firstElementChild;
}

function start() {
  if (window.__mandatbotWidget) return;
  window.__mandatbotWidget = new MandatWidget(readConfig(currentScript));
}

const currentScript = document.currentScript;
if (currentScript && currentScript.dataset.mode === "cards") {
  window.MandatbotCards = { render: renderCard };
} else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
