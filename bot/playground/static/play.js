/* The playground page: pick who you are, open one of their chats, act. Every action goes to the
   simulator as a Telegram client's would, and the page shows what the bot answered. Plain
   JavaScript, no build step. The bot's own Telegram HTML passes a tag filter. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("config").textContent);
  const L_ = config.labels;
  const $ = (id) => document.getElementById(id);
  const state = { world: null, person: null, chat: null, version: -1, chatVersion: -1, map: null, marker: null };

  const { el, safeHtml } = window.Siaga112Dom;

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }

  async function getJson(url) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(url + " " + response.status);
    return response.json();
  }

  async function act(body) {
    document.body.classList.add("busy");
    showError("");
    try {
      const response = await fetch("/api/act", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!answer.ok) showError(answer.error);
      await refresh(true);
    } catch (error) {
      showError(String(error));
    } finally {
      document.body.classList.remove("busy");
    }
  }

  function person() {
    return state.world.people.find((p) => p.id === state.person);
  }

  function chatInfo(id) {
    return state.world.chats.find((c) => c.id === id);
  }

  function chatName(chat) {
    if (chat.type !== "private") return chat.title;
    return L_.private_with;
  }

  // --- the side: who you are, and your chats ---

  function renderSide() {
    const select = $("person");
    if (!select.options.length || select.options.length !== state.world.people.length) {
      select.replaceChildren(
        ...state.world.people.map((p) => el("option", { value: p.id, text: p.name + (p.username ? " (@" + p.username + ")" : "") })),
      );
    }
    select.value = String(state.person);
    const me = person();
    const list = $("chats");
    list.replaceChildren();
    for (const id of me.chats) {
      const chat = chatInfo(id);
      if (!chat) continue;
      const button = el("button", { type: "button", "data-chat": id, "aria-current": id === state.chat ? "true" : "false" }, chatName(chat));
      button.addEventListener("click", () => openChat(id));
      list.append(el("li", {}, button));
    }
  }

  // --- the chat ---

  function messageItem(message) {
    if (message.service) {
      return el("li", { class: "message service" }, message.service);
    }
    const who = message.from_bot ? L_.bot_name : message.sender || "?";
    const item = el("li", {
      class: "message " + (message.from_bot ? "bot" : "person") + (message.pinned ? " pinned" : ""),
      "data-message": message.id,
    });
    item.append(el("div", { class: "who", text: who }));
    if (message.photo) item.append(el("div", { class: "attachment" }, "🖼 ", el("img", { src: "/static/sample.png", alt: "foto" })));
    if (message.document) item.append(el("div", { class: "attachment", text: "📎 " + message.document }));
    if (message.location) {
      const where = message.venue ? message.venue + " · " : "";
      item.append(el("div", { class: "attachment", text: "📍 " + where + message.location.latitude.toFixed(5) + ", " + message.location.longitude.toFixed(5) }));
    }
    if (message.contact) item.append(el("div", { class: "attachment", text: "👤 " + message.contact }));
    if (message.html) item.append(el("div", { class: "body" }, safeHtml(message.html)));
    else if (message.text) item.append(el("div", { class: "body", text: message.text }));
    if (message.buttons.length) {
      const keyboard = el("div", { class: "keyboard" });
      message.buttons.forEach((row, r) => {
        const line = el("div", { class: "row" });
        row.forEach((button, c) => {
          if (button.url) {
            line.append(el("a", { href: button.url, target: "_blank", rel: "noopener", text: button.text }));
          } else {
            const press = el("button", { type: "button", text: button.text, disabled: !button.press });
            press.addEventListener("click", () => act({ action: "press", user: state.person, chat: state.chat, message: message.id, row: r, column: c }));
            line.append(press);
          }
        });
        keyboard.append(line);
      });
      item.append(keyboard);
    }
    const meta = [];
    if (message.edited) meta.push(L_.edited);
    if (message.pinned) meta.push("📌 " + L_.pinned);
    if (meta.length) item.append(el("div", { class: "meta", text: meta.join(" · ") }));
    return item;
  }

  function renderTools(chat) {
    const tools = $("chat-tools");
    tools.replaceChildren();
    if (chat.type === "private") {
      const blocked = person().blocked;
      const block = el("button", { type: "button", text: blocked ? L_.unblock : L_.block });
      block.addEventListener("click", () => act({ action: "block", user: state.person, blocked: !blocked }));
      tools.append(block);
      return;
    }
    tools.append(el("span", { text: L_.members + ": " + chat.members.length }));
    const outside = state.world.people.filter((p) => !chat.members.includes(p.id));
    const inside = state.world.people.filter((p) => chat.members.includes(p.id) && p.id !== state.person);
    const addSelect = el("select", { "aria-label": L_.add_member }, ...outside.map((p) => el("option", { value: p.id, text: p.name })));
    const add = el("button", { type: "button", text: L_.add_member, disabled: !outside.length });
    add.addEventListener("click", () => act({ action: "member", user: state.person, chat: chat.id, person: Number(addSelect.value), add: true }));
    const removeSelect = el("select", { "aria-label": L_.remove_member }, ...inside.map((p) => el("option", { value: p.id, text: p.name })));
    const remove = el("button", { type: "button", text: L_.remove_member, disabled: !inside.length });
    remove.addEventListener("click", () => act({ action: "member", user: state.person, chat: chat.id, person: Number(removeSelect.value), add: false }));
    const admin = el("button", { type: "button", text: chat.bot_admin ? L_.bot_not_admin : L_.bot_admin });
    admin.addEventListener("click", () => act({ action: "bot_admin", user: state.person, chat: chat.id, admin: !chat.bot_admin }));
    tools.append(addSelect, add, removeSelect, remove, admin);
  }

  async function loadChat(force) {
    if (state.chat === null) return;
    const data = await getJson("/api/chat/" + state.chat);
    if (!force && data.version === state.chatVersion) return;
    state.chatVersion = data.version;
    const box = $("messages");
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 30;
    box.replaceChildren(...data.messages.map(messageItem));
    if (!data.messages.length) box.append(el("li", { class: "message service", text: L_.empty_chat }));
    if (atEnd || force) box.scrollTop = box.scrollHeight;
    const keyboard = $("reply-keyboard");
    keyboard.replaceChildren();
    const chat = chatInfo(state.chat);
    if (chat && chat.type === "private") {
      for (const row of data.reply_keyboard) {
        const line = el("div", { class: "row" });
        for (const button of row) {
          const press = el("button", { type: "button", text: button.text });
          press.addEventListener("click", () => {
            if (button.kind === "location") openPicker();
            else if (button.kind === "contact") act({ action: "contact", user: state.person, chat: state.chat });
            else act({ action: "text", user: state.person, chat: state.chat, text: button.text });
          });
          line.append(press);
        }
        keyboard.append(line);
      }
    }
  }

  function openChat(id) {
    state.chat = id;
    state.chatVersion = -1;
    const chat = chatInfo(id);
    $("chat-title").textContent = chatName(chat) + (chat.type === "private" ? "" : "");
    renderTools(chat);
    renderSide();
    closePicker();
    loadChat(true);
  }

  async function refresh(force) {
    const world = await getJson("/api/world");
    const changed = world.version !== state.version;
    state.world = world;
    state.version = world.version;
    $("clock").textContent = new Date(world.clock).toLocaleString(config.lang === "id" ? "id-ID" : "en-GB", {
      timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", day: "numeric", month: "short",
    }) + " WIB";
    if (state.person === null) {
      const resident = world.people.find((p) => p.name.startsWith("Ani")) || world.people[0];
      state.person = resident.id;
    }
    if (state.chat === null || !person().chats.includes(state.chat)) {
      openChat(person().chats[0]);
      return;
    }
    if (changed || force) {
      renderSide();
      renderTools(chatInfo(state.chat));
      await loadChat(force);
    }
  }

  // --- sharing a place ---

  function openPicker() {
    $("location-picker").hidden = false;
    if (state.map === null && typeof L !== "undefined") {
      state.map = L.map("picker-map", { zoomAnimation: false }).setView(config.center, 13);
      L.circle(config.center, { radius: 3000, color: "#14213d", weight: 1, fill: false }).addTo(state.map);
      state.map.on("click", (event) => {
        $("lat").value = event.latlng.lat.toFixed(5);
        $("lon").value = event.latlng.lng.toFixed(5);
        if (state.marker) state.marker.remove();
        state.marker = L.circleMarker(event.latlng, { radius: 8, color: "#b3261e" }).addTo(state.map);
      });
    }
    if (!$("lat").value) {
      $("lat").value = config.center[0].toFixed(5);
      $("lon").value = config.center[1].toFixed(5);
    }
    setTimeout(() => state.map && state.map.invalidateSize(), 0);
  }

  function closePicker() {
    $("location-picker").hidden = true;
  }

  // --- start ---

  function start() {
    document.title = L_.title;
    $("offline").textContent = L_.offline;
    $("clock-label").textContent = L_.clock;
    $("you-are").textContent = L_.you_are;
    $("chats-title").textContent = L_.chats;
    $("send").textContent = L_.send;
    $("text").placeholder = L_.placeholder;
    $("share-location").textContent = "📍 " + L_.location;
    $("share-contact").textContent = "👤 " + L_.contact;
    $("share-photo").textContent = "🖼 " + L_.photo;
    $("map-hint").textContent = L_.map_hint;
    $("lat-label").textContent = L_.latitude;
    $("lon-label").textContent = L_.longitude;
    $("send-location").textContent = L_.send_location;
    const language = $("language");
    language.textContent = config.other_language_label;
    language.href = "?lang=" + config.other_lang;
    for (const minutes of config.steps) {
      const button = el("button", { type: "button", "data-minutes": minutes, text: "+" + minutes + " " + L_.advance });
      button.addEventListener("click", () => act({ action: "clock", minutes }));
      $("advance").append(button);
    }
    $("person").addEventListener("change", (event) => {
      state.person = Number(event.target.value);
      state.chat = null;
      refresh(true);
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("text").value;
      if (!text.trim()) return;
      $("text").value = "";
      act({ action: "text", user: state.person, chat: state.chat, text });
    });
    $("share-location").addEventListener("click", openPicker);
    $("share-contact").addEventListener("click", () => act({ action: "contact", user: state.person, chat: state.chat }));
    $("share-photo").addEventListener("click", () => act({ action: "photo", user: state.person, chat: state.chat, caption: $("text").value || L_.photo_caption }));
    $("send-location").addEventListener("click", () => {
      const lat = Number($("lat").value.replace(",", "."));
      const lon = Number($("lon").value.replace(",", "."));
      closePicker();
      act({ action: "location", user: state.person, chat: state.chat, lat, lon });
    });
    refresh(true);
    setInterval(() => refresh(false).catch((error) => showError(String(error))), 1000);
  }

  start();
})();
