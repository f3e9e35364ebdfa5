/* Small DOM helpers shared by the board and the playground: elements from a description,
   templates filled in, and the bot's Telegram HTML through a tag filter (allowed tags kept,
   links only to http, https, tel and tg; everything else reduced to its text). */
(function () {
  "use strict";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : "?"));
  }

  const ALLOWED = new Set([
    "B", "STRONG", "I", "EM", "U", "INS", "S", "STRIKE", "DEL", "CODE", "PRE", "A",
    "BLOCKQUOTE", "SPAN", "TG-SPOILER", "BR",
  ]);

  function safeHtml(html) {
    const parsed = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
    const out = document.createDocumentFragment();
    (function copy(from, to) {
      for (const node of from.childNodes) {
        if (node.nodeType === Node.TEXT_NODE) {
          to.append(document.createTextNode(node.textContent));
        } else if (node.nodeType === Node.ELEMENT_NODE) {
          if (!ALLOWED.has(node.tagName)) {
            copy(node, to);
            continue;
          }
          const tag = node.tagName === "TG-SPOILER" ? "span" : node.tagName.toLowerCase();
          const kept = document.createElement(tag);
          if (node.tagName === "A") {
            const href = node.getAttribute("href") || "";
            if (/^(https?:|tel:|tg:)/i.test(href)) {
              kept.setAttribute("href", href);
              kept.setAttribute("target", "_blank");
              kept.setAttribute("rel", "noopener noreferrer");
            }
          }
          copy(node, kept);
          to.append(kept);
        }
      }
    })(parsed.body.firstChild, out);
    return out;
  }

  window.Siaga112Dom = Object.freeze({ el, fill, safeHtml });
})();
