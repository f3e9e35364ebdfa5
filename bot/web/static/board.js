/* siaga112 board: the open incidents as a list and on a map, kept live by the server's event
   stream. Plain JavaScript, no build step. Everything the server sends as people's words is
   shown as text; the few fields marked *_html (the bot's own Telegram HTML) pass a tag filter. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("config").textContent);
  const L_ = config.labels;
  const $ = (id) => document.getElementById(id);
  const state = {
    incidents: [],
    broadcasts: [],
    open: null, // the number in the side panel
    connected: false,
    everConnected: false,
    source: null,
    refreshTimer: null,
    markers: new Map(),
    unfolded: new Set(), // numbers whose folded reports are shown
    lastEvent: 0, // when the stream last said anything (a ping every 15 s)
    pinMap: null,
    opener: null, // what had the focus when the panel opened
  };
  const STREAM_SILENT_MS = 45000; // three pings missed: the connection is dead, if quietly

  const { el, fill, safeHtml } = window.Siaga112Dom;

  function minutesSince(iso, now) {
    return Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
  }

  function ageText(iso, now) {
    const minutes = minutesSince(iso, now);
    if (minutes < 60) return fill(L_.age_minutes, { minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return fill(L_.age_hours, { hours, minutes: minutes % 60 });
    return fill(L_.age_days, { days: Math.floor(hours / 24), hours: hours % 24 });
  }

  const clockFormat = new Intl.DateTimeFormat(config.locale, {
    timeZone: config.zone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });

  // --- fetching ---

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) throw Object.assign(new Error("signed out"), { signedOut: true });
    if (!response.ok) throw new Error(url + " answered " + response.status);
    return response.json();
  }

  function withParams(url) {
    const params = new URLSearchParams({ lang: config.lang });
    if (config.drill) params.set("drill", "1");
    return url + (url.includes("?") ? "&" : "?") + params.toString();
  }

  async function loadAll() {
    try {
      const [open, broadcasts] = await Promise.all([
        getJson(withParams(config.urls.open)),
        getJson(withParams(config.urls.broadcasts)),
      ]);
      state.incidents = open.incidents;
      state.total = open.total;
      state.broadcasts = broadcasts.broadcasts;
      signedIn();
      render();
      if (state.open !== null) openPanel(state.open, false);
    } catch (error) {
      failed(error);
    }
  }

  async function loadBroadcasts() {
    try {
      state.broadcasts = (await getJson(withParams(config.urls.broadcasts))).broadcasts;
      renderBroadcasts();
    } catch (error) {
      failed(error);
    }
  }

  function failed(error) {
    if (!(error instanceof TypeError && /fetch/i.test(error.message)) && !error.signedOut) {
      console.error("board:", error); // not the network: a fault of the page's own, shown
    }
    if (error.signedOut) {
      signedOut();
    } else {
      disconnected();
    }
  }

  // Inside Telegram, a Mini App's launch data arrives in the address's fragment: the board signs
  // in with it (the server checks Telegram's signature) instead of asking for a link.
  async function signInFromTelegram() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const initData = fragment.get("tgWebAppData");
    if (!initData) return false;
    if (sessionStorage.getItem("siaga112-telegram-tried")) {
      // Signed in a moment ago and still refused: this browser keeps no cookie in the frame.
      sessionStorage.removeItem("siaga112-telegram-tried");
      return false;
    }
    const response = await fetch(config.urls.telegram, {
      method: "POST",
      credentials: "same-origin",
      body: initData,
    });
    if (response.ok) sessionStorage.setItem("siaga112-telegram-tried", "1");
    return response.ok;
  }

  // --- connection state ---

  function disconnected() {
    state.connected = false;
    $("banner").textContent = L_.disconnected;
    $("banner").hidden = false;
  }

  function connected() {
    state.connected = true;
    state.everConnected = true;
    $("banner").hidden = true;
  }

  function signedIn() {
    $("signin").hidden = true;
    $("main").hidden = false;
  }

  function signedOut() {
    if (state.source) state.source.close();
    state.source = null;
    $("banner").hidden = true;
    $("main").hidden = true;
    $("signin").textContent = L_.signed_out;
    $("signin").hidden = false;
  }

  function listen() {
    const source = new EventSource(config.urls.events);
    state.source = source;
    state.lastEvent = Date.now();
    const heard = () => {
      state.lastEvent = Date.now();
    };
    // Every (re)connection starts with hello (or resync): read everything then, so nothing that
    // happened before the stream was open, or while it was away, is missed.
    source.addEventListener("hello", () => {
      heard();
      connected();
      sessionStorage.removeItem("siaga112-telegram-tried");
      loadAll();
    });
    source.addEventListener("resync", () => {
      heard();
      connected();
      loadAll();
    });
    source.addEventListener("ping", heard);
    source.addEventListener("incident", (event) => {
      heard();
      JSON.parse(event.data); // an incident changed: the list (and an open panel) are read again
      scheduleRefresh();
    });
    source.addEventListener("broadcast", () => {
      heard();
      loadBroadcasts();
    });
    source.addEventListener("error", () => {
      disconnected();
      if (source.readyState === EventSource.CLOSED) reconnectLater(source);
    });
  }

  function reconnectLater(source) {
    // Refused (signed out, or the server answered oddly), or silent too long: a new stream.
    source.close();
    if (state.source !== source) return; // already taken care of
    state.source = null;
    retryStream();
  }

  function retryStream() {
    setTimeout(async () => {
      try {
        await getJson(config.urls.open);
        listen();
      } catch (error) {
        if (error.signedOut) {
          signedOut();
        } else {
          disconnected();
          retryStream();
        }
      }
    }, 3000);
  }

  function watchStream() {
    setInterval(() => {
      const source = state.source;
      if (source && Date.now() - state.lastEvent > STREAM_SILENT_MS) {
        disconnected(); // a half-open connection says nothing: no ping is news too
        reconnectLater(source);
      }
    }, 5000);
  }

  function scheduleRefresh() {
    if (state.refreshTimer !== null) return;
    state.refreshTimer = setTimeout(() => {
      state.refreshTimer = null;
      loadAll();
    }, 250);
  }

  // --- rendering the list ---

  function lateOf(late, now) {
    if (!late) return null;
    if (late.escalated) return L_.late_escalated;
    if (late.reminded > 0) return fill(L_.late_reminded, { count: late.reminded });
    if (late.due && Date.parse(late.due) <= now) return L_.late_due;
    return null;
  }

  function chip(agency, now) {
    const late = lateOf(agency.late, now);
    return el(
      "li",
      {
        class: "chip st-" + agency.state + (late ? " late" : ""),
        "data-agency": agency.code,
        "data-state": agency.state,
        title: agency.acknowledged_by ? agency.name + " · " + agency.acknowledged_by : agency.name,
      },
      el("b", { text: agency.code }),
      " " + agency.state_label + " ",
      el("span", { class: "when", "data-since": agency.since, text: ageText(agency.since, now) }),
      late ? " ⚠ " + late : null,
    );
  }

  function incidentItem(incident, now, similar) {
    const late = lateOf(incident.late, now);
    const agenciesLate = incident.agencies.some((a) => lateOf(a.late, now));
    const item = el(
      "article",
      {
        class: "incident sev-" + incident.severity + (late || agenciesLate ? " late" : ""),
        "data-number": incident.number,
        tabindex: "0",
        role: "button",
        "aria-label": "#" + incident.number + " " + incident.type_label,
      },
      el(
        "div",
        { class: "head" },
        el("span", { class: "num", text: "#" + incident.number }),
        el("span", { class: "sev " + incident.severity, text: incident.severity_label }),
        el("span", { class: "type", text: incident.type_label }),
        incident.drill ? el("span", { class: "tag drill", text: L_.drill_tag }) : null,
        el("span", { class: "age", "data-since": incident.reported_at, text: ageText(incident.reported_at, now) }),
      ),
      el("div", { class: "place", text: incident.location.text }),
    );
    const chips = el("ul", { class: "chips" });
    for (const agency of incident.agencies) chips.append(chip(agency, now));
    if (!incident.agencies.length) {
      const who = incident.owner ? fill(L_.owned_by, { name: incident.owner }) : L_.unowned;
      chips.append(el("li", { class: "chip" + (late ? " late" : "") }, who, late ? " ⚠ " + late : null));
    }
    item.append(chips);
    const notes = [];
    if (incident.merged.length) notes.push(fill(L_.merged, { count: incident.merged.length }));
    if (notes.length) item.append(el("div", { class: "folded", text: notes.join(" · ") }));
    if (similar && similar.length) {
      const details = el("details", { class: "folded", open: state.unfolded.has(incident.number) });
      details.append(el("summary", { text: fill(L_.similar, { count: similar.length }) }));
      for (const other of similar) details.append(incidentItem(other, now, []));
      details.addEventListener("click", (event) => event.stopPropagation());
      details.addEventListener("toggle", () => {
        if (details.open) state.unfolded.add(incident.number);
        else state.unfolded.delete(incident.number);
      });
      item.append(details);
    }
    item.addEventListener("click", (event) => {
      event.stopPropagation();
      openPanel(incident.number, true);
    });
    item.addEventListener("keydown", (event) => {
      if (event.target !== item || (event.key !== "Enter" && event.key !== " ")) return;
      event.preventDefault();
      event.stopPropagation(); // a folded report's key is not also its parent's
      openPanel(incident.number, true);
    });
    return item;
  }

  function render() {
    const now = Date.now();
    const byNumber = new Map(state.incidents.map((i) => [i.number, i]));
    // A report that may repeat another on the list is folded under it; a chain (C may repeat
    // B, which may repeat A) is folded under its first report.
    function root(incident) {
      let current = incident;
      const seen = new Set([current.number]);
      while (current.similar_to !== null && byNumber.has(current.similar_to)) {
        if (seen.has(current.similar_to)) break; // a cycle: stop where it closes
        current = byNumber.get(current.similar_to);
        seen.add(current.number);
      }
      return current;
    }
    const folded = new Map();
    const top = [];
    for (const incident of state.incidents) {
      const head = root(incident);
      if (head === incident) {
        top.push(incident);
      } else {
        if (!folded.has(head.number)) folded.set(head.number, []);
        folded.get(head.number).push(incident);
      }
    }
    const list = $("list");
    const focused = document.activeElement?.closest?.("#list article")?.getAttribute("data-number");
    list.replaceChildren();
    for (const incident of top) list.append(incidentItem(incident, now, folded.get(incident.number)));
    if (!state.incidents.length) list.append(el("p", { class: "empty", text: L_.empty }));
    if (focused) list.querySelector(`article[data-number="${focused}"]`)?.focus({ preventScroll: true });
    list.setAttribute("aria-busy", "false");
    const count = fill(L_.open_count, { count: state.total });
    if ($("count").textContent !== count) {
      $("count").textContent = count;
      $("status").textContent = count; // said once by a screen reader, not the whole list again
    }
    const hidden = state.total - state.incidents.length;
    $("more").hidden = hidden <= 0;
    $("more").textContent = fill(L_.more, { count: hidden });
    renderBroadcasts();
    renderMap();
  }

  function renderBroadcasts() {
    const box = $("broadcasts");
    box.replaceChildren(el("h2", { text: L_.broadcasts }));
    for (const b of state.broadcasts) {
      box.append(
        el(
          "div",
          { class: "broadcast", "data-broadcast": b.number },
          el("div", {}, b.urgency_label + " · " + b.status_label + " · ",
            el("span", { class: "counts", text: fill(L_.broadcast_counts, b) })),
          el("div", { class: "text", text: b.text.length > 160 ? b.text.slice(0, 159) + "…" : b.text }),
        ),
      );
    }
    box.hidden = !state.broadcasts.length;
  }

  // Ages and late marks move on without the server.
  function tick() {
    const now = Date.now();
    $("clock").textContent = clockFormat.format(now) + " " + config.zone_label;
    if (now - (state.lastAges || 0) >= 15000) {
      state.lastAges = now;
      for (const node of document.querySelectorAll("[data-since]")) {
        node.textContent = ageText(node.getAttribute("data-since"), now);
      }
    }
  }

  // --- the map ---

  const SEVERITY_COLOURS = { kritis: "#b3261e", tinggi: "#c25400", sedang: "#8a6d00", rendah: "#2f5fb3" };
  let map = null;
  let pins = null;

  function plainGrid(target) {
    // Without tiles (no internet, or MAP_TILE_URL empty) the map still has a frame: the service
    // area and a grid of 0.05° (about 5.5 km).
    const [lat, lon] = config.center;
    const span = config.radius_km / 111 + 0.1;
    const step = 0.05;
    const grid = L.layerGroup();
    const style = { color: "#9aa5b1", weight: 1, opacity: 0.6, interactive: false };
    for (let y = Math.floor((lat - span) / step) * step; y <= lat + span; y += step) {
      grid.addLayer(L.polyline([[y, lon - span * 1.2], [y, lon + span * 1.2]], style));
    }
    for (let x = Math.floor((lon - span * 1.2) / step) * step; x <= lon + span * 1.2; x += step) {
      grid.addLayer(L.polyline([[lat - span, x], [lat + span, x]], style));
    }
    grid.addTo(target);
    return L.circle(config.center, {
      radius: config.radius_km * 1000,
      color: "#14213d",
      weight: 2,
      fill: false,
      interactive: false,
    }).addTo(target);
  }

  function baseMap(node, options) {
    // No zoom or fade animations: a wall screen gains nothing from them, and a screenshot or a
    // slow machine would catch the map half-way.
    const still = { zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false };
    const target = L.map(node, Object.assign({ attributionControl: true }, still, options));
    target.setView(config.center, 10); // a view before any layer: they are drawn against it
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { maxZoom: 19, attribution: config.tile_attribution }).addTo(target);
    }
    const area = plainGrid(target);
    return [target, area];
  }

  function renderMap() {
    if (typeof L === "undefined") return;
    if (map === null) {
      [map] = baseMap("map", {});
      map.fitBounds(L.latLng(config.center).toBounds(config.radius_km * 2000));
      pins = L.layerGroup().addTo(map);
      if (!config.tile_url) {
        $("mapnote").textContent = L_.no_tiles;
        $("mapnote").hidden = false;
      }
    }
    pins.clearLayers();
    state.markers.clear();
    let without = 0;
    for (const incident of state.incidents) {
      const { lat, lon } = incident.location;
      if (lat === null || lon === null) {
        without += 1;
        continue;
      }
      const marker = L.circleMarker([lat, lon], {
        radius: incident.severity === "kritis" ? 11 : 8,
        color: "#ffffff",
        weight: 2,
        fillColor: SEVERITY_COLOURS[incident.severity] || "#2f5fb3",
        fillOpacity: 0.95,
      });
      marker.bindTooltip("#" + incident.number + " " + incident.type_label);
      marker.on("click", () => openPanel(incident.number, true));
      marker.addTo(pins);
      state.markers.set(incident.number, marker);
    }
    if (!state.fitted && state.markers.size) {
      // The first time there are pins: show them (the service area is wide for a city).
      state.fitted = true;
      const bounds = L.latLngBounds([...state.markers.values()].map((m) => m.getLatLng()));
      map.fitBounds(bounds.pad(0.3), { maxZoom: 14 });
    }
    $("map").setAttribute("aria-label", fill(L_.map_label, { count: state.incidents.length - without }));
  }

  // --- the side panel ---

  function section(title, lines) {
    if (!lines.length) return null;
    const list = el("ol");
    for (const line of lines) list.append(el("li", {}, safeHtml(line)));
    return el("section", {}, el("h3", { text: title }), list);
  }

  async function openPanel(number, fresh) {
    if (fresh && state.open === null) state.opener = document.activeElement;
    state.open = number;
    let detail;
    try {
      detail = await getJson(withParams(config.urls.incident.replace("{number}", number)));
    } catch (error) {
      if (error.signedOut) return signedOut();
      if (fresh || / 40[34]$/.test(error.message)) closePanel(); // gone, or no longer theirs
      return;
    }
    if (state.open !== number) return;
    const body = $("panel-body");
    const head = el(
      "h2",
      {},
      "#" + detail.number + " " + detail.type_label + " ",
      el("span", { class: "sev " + detail.severity, text: detail.severity_label }),
    );
    const facts = el(
      "dl",
      {},
      el("dt", { text: L_.status }), el("dd", { text: detail.status_label }),
      el("dt", { text: L_.place }), el("dd", { text: detail.location.address || detail.location.text }),
      el("dt", { text: L_.hurt }), el("dd", {}, safeHtml(detail.hurt_html)),
      el("dt", { text: L_.reporter }),
      el("dd", {}, detail.reporter || "—", detail.phone ? " · " : null,
        detail.phone ? el("a", { href: "tel:" + detail.phone, text: detail.phone }) : null),
    );
    const chips = el("ul", { class: "chips" });
    for (const agency of detail.agencies) chips.append(chip(agency, Date.now()));
    const pin = el("div", { class: "pinmap", id: "pinmap" });
    const parts = [
      head,
      detail.drill ? el("p", {}, el("span", { class: "tag drill", text: L_.drill_tag })) : null,
      chips,
      facts,
      el("h3", { text: L_.description }),
      el("p", { class: "description", text: detail.description || "—" }),
      detail.location.lat !== null ? pin : el("p", { text: L_.no_point }),
      section(L_.info, detail.info_html),
      section(L_.said, detail.said_html),
      section(L_.timeline, detail.timeline_html),
    ];
    body.replaceChildren(...parts.filter((part) => part !== null));
    $("panel").hidden = false;
    if (state.pinMap !== null) {
      state.pinMap.remove(); // one small map at a time: the old one lets go of its listeners
      state.pinMap = null;
    }
    if (detail.location.lat !== null && typeof L !== "undefined") {
      const [pinMap] = baseMap(pin, { zoomControl: false });
      state.pinMap = pinMap;
      const point = [detail.location.lat, detail.location.lon];
      pinMap.setView(point, config.tile_url ? 15 : 12);
      L.circleMarker(point, {
        radius: 10, color: "#fff", weight: 2,
        fillColor: SEVERITY_COLOURS[detail.severity], fillOpacity: 0.95,
      }).addTo(pinMap);
    }
    if (fresh) $("panel-close").focus();
  }

  function closePanel() {
    state.open = null;
    $("panel").hidden = true;
    if (state.pinMap !== null) {
      state.pinMap.remove();
      state.pinMap = null;
    }
    const opener = state.opener;
    state.opener = null;
    if (opener && document.contains(opener)) opener.focus();
  }

  // --- wall screen: scroll the list by itself ---

  function autoScroll() {
    const box = $("listbox");
    setInterval(() => {
      if (box.scrollHeight <= box.clientHeight + 4) return;
      const end = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
      box.scrollTo({ top: end ? 0 : box.scrollTop + box.clientHeight * 0.8, behavior: "smooth" });
    }, 8000);
  }

  // --- start ---

  function views() {
    const nav = $("views");
    const here = new URLSearchParams(location.search);
    function link(label, changes, current) {
      const params = new URLSearchParams(here);
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) params.delete(name);
        else params.set(name, value);
      }
      return el("a", { href: "?" + params.toString(), "aria-current": current ? "page" : null, text: label });
    }
    nav.append(
      link(L_.live_view, { drill: null }, !config.drill),
      link(L_.drill_view, { drill: "1" }, config.drill),
      link(config.other_language_label, { lang: config.other_lang }, false),
    );
  }

  async function start() {
    $("panel-close").textContent = L_.close;
    $("panel-close").addEventListener("click", closePanel);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.open !== null) closePanel();
    });
    if (config.drill) {
      $("drillbar").textContent = L_.drill_banner;
      $("drillbar").hidden = false;
    }
    views();
    tick();
    setInterval(tick, 1000);
    setInterval(() => render(), 30000); // late marks whose time came, without the server
    try {
      await getJson(config.urls.open);
    } catch (error) {
      if (error.signedOut) {
        if (await signInFromTelegram()) {
          location.reload(); // signed in: the page again, in the person's own language
        } else {
          signedOut();
        }
        return;
      }
    }
    listen(); // its hello reads the list
    watchStream();
    if (config.wall) autoScroll();
  }

  start();
})();
