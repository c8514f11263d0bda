// Territory suggestions for the contribution form. Progressive enhancement: without this script the
// textarea still takes one territory per line and the server resolves the names.
(function () {
  "use strict";
  const box = document.querySelector("[data-territoires]");
  if (!box) return;
  const area = box.querySelector("textarea");
  const search = document.createElement("input");
  search.type = "search";
  search.id = "territoire-recherche";
  search.setAttribute("autocomplete", "off");
  search.setAttribute("aria-label", box.dataset.searchLabel);  // the page's words (api/i18n.py)
  search.setAttribute("aria-controls", "territoire-suggestions");
  search.placeholder = box.dataset.searchHint;
  const list = document.createElement("ul");
  list.id = "territoire-suggestions";
  list.className = "suggestions";
  list.setAttribute("aria-live", "polite");
  area.before(search, list);
  let timer = null;
  let last = "";
  function clear() { list.replaceChildren(); }
  function add(value) {
    const lines = area.value.split("\n").map((l) => l.trim()).filter(Boolean);
    if (!lines.includes(value)) lines.push(value);
    area.value = lines.join("\n");
    search.value = "";
    clear();
    search.focus();
  }
  async function suggest() {
    const q = search.value.trim();
    if (q === last) return;
    last = q;
    if (q.length < 2) { clear(); return; }
    const response = await fetch("/territoires/autocomplete?q=" + encodeURIComponent(q));
    if (!response.ok || q !== last) return;
    const items = await response.json();
    clear();
    for (const item of items) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = item.label + " (" + item.type_libelle + " " + item.code + ")";  // text, never HTML
      button.addEventListener("click", () => add(item.valeur));
      li.append(button);
      list.append(li);
    }
  }
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 150); });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); const first = list.querySelector("button"); if (first) first.click(); }
    if (e.key === "ArrowDown") { const first = list.querySelector("button"); if (first) { e.preventDefault(); first.focus(); } }
  });
})();
