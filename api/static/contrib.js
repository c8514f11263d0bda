// Territory suggestions for the contribution form, as the ARIA combobox pattern (list autocomplete): focus
// stays in the search box; Down and Up move through the suggestions, Enter adds the one shown (else the
// first), Escape closes them; a status line says how many there are, or that there is none, and which was
// added (the list closes and the box empties: else a screen reader hears nothing happen). Progressive
// enhancement: without this script the textarea still takes one territory per line and the server resolves
// the names.
(function () {
  "use strict";
  const box = document.querySelector("[data-territoires]");
  if (!box) return;
  const area = box.querySelector("textarea");
  const search = document.createElement("input");
  search.type = "search";
  search.id = "territoire-recherche";
  search.setAttribute("role", "combobox");
  search.setAttribute("aria-autocomplete", "list");
  search.setAttribute("aria-expanded", "false");
  search.setAttribute("aria-controls", "territoire-suggestions");
  search.setAttribute("aria-describedby", "territoire-statut");
  search.setAttribute("autocomplete", "off");
  search.setAttribute("aria-label", box.dataset.searchLabel);  // the page's words (api/i18n.py)
  search.placeholder = box.dataset.searchHint;
  const list = document.createElement("ul");
  list.id = "territoire-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", box.dataset.searchLabel);
  list.hidden = true;
  const status = document.createElement("p");
  status.id = "territoire-statut";
  status.className = "aide";
  status.setAttribute("role", "status");  // a live region: the count, or "none", is announced
  area.before(search, list, status);
  let timer = null;
  let last = "";
  let active = -1;
  const options = () => list.querySelectorAll("[role=option]");
  function show(index) {
    const all = options();
    active = (index + all.length) % all.length;  // past the last is the first, before the first the last
    all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
    search.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  }
  function close() {
    list.replaceChildren();
    list.hidden = true;
    active = -1;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
  }
  function add(value, name) {
    const lines = area.value.split("\n").map((l) => l.trim()).filter(Boolean);
    if (!lines.includes(value)) lines.push(value);
    area.value = lines.join("\n");
    search.value = "";
    last = "";
    status.textContent = box.dataset.searchAdded.replace("{name}", name);
    close();
    search.focus();
  }
  async function suggest() {
    const q = search.value.trim();
    if (q === last) return;
    last = q;
    if (q.length < 2) { close(); status.textContent = ""; return; }
    const response = await fetch("/territoires/autocomplete?q=" + encodeURIComponent(q));
    if (!response.ok || q !== last) return;
    const items = await response.json();
    close();
    items.forEach((item, i) => {
      const option = document.createElement("li");
      option.id = "territoire-suggestion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = item.label + " (" + item.type_libelle + " " + item.code + ")";  // text, never HTML
      option.addEventListener("mousedown", (e) => e.preventDefault());  // the focus stays in the box
      option.addEventListener("click", () => add(item.valeur, option.textContent));
      list.append(option);
    });
    list.hidden = !items.length;
    search.setAttribute("aria-expanded", String(items.length > 0));
    status.textContent = items.length
      ? box.dataset.searchFound.replace("{n}", items.length)
      : box.dataset.searchNone;
  }
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 150); });
  search.addEventListener("blur", close);
  search.addEventListener("keydown", (e) => {
    const count = options().length;
    if (e.key === "Enter") {  // never sends the form from the search box
      e.preventDefault();
      if (count) options()[Math.max(active, 0)].click();
    } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && count) {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      show(active < 0 && step < 0 ? -1 : active + step);
    } else if (e.key === "ArrowDown") {  // a closed list opens again
      last = "";
      suggest();
    } else if (e.key === "Escape" && count) {
      e.preventDefault();  // the box keeps its text: closing is not clearing
      close();
    }
  });
})();
