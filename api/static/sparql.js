// Query page: a textarea with a small highlighter, results as a table with labels and links.
(function () {
  "use strict";
  const form = document.getElementById("sparql-form");
  const query = document.getElementById("query");
  const shade = document.getElementById("sparql-highlight");
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const downloads = document.getElementById("downloads");
  const examples = JSON.parse(document.getElementById("sparql-examples").textContent);
  const prefixes = JSON.parse(document.getElementById("sparql-prefixes").textContent);
  const base = JSON.parse(document.getElementById("sparql-base").textContent);
  // The page's words (api/i18n.py), "{name}" where a value goes; a count's word by the language's rule.
  const words = JSON.parse(document.getElementById("sparql-words").textContent);
  const lang = document.documentElement.lang;
  const say = (key, values) => words[key].replace(/\{(\w+)\}/g, (m, name) => String(values[name]));
  const counted = (n) => `${n.toLocaleString(lang)} ${new Intl.PluralRules(lang).select(n) === "one" ? words.one : words.many}`;
  const ns = {};
  prefixes.replace(/PREFIX\s+(\w*):\s*<([^>]*)>/g, (m, p, iri) => { ns[p] = iri; return m; });

  const esc = (s) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
  const TOKEN = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(<[^<>"{}|^`\\\s]*>)|([?$]\w+)|\b(SELECT|CONSTRUCT|DESCRIBE|ASK|WHERE|PREFIX|BASE|FILTER|OPTIONAL|UNION|GRAPH|GROUP|ORDER|BY|LIMIT|OFFSET|DISTINCT|COUNT|AS|VALUES|BIND|MINUS|NOT|EXISTS|HAVING|DESC|ASC|FROM|NAMED|SERVICE|a)\b/gi;
  function highlight() {
    const text = query.value;
    let out = "", last = 0;
    text.replace(TOKEN, (m, cmt, str, iri, v, kw, offset) => {
      out += esc(text.slice(last, offset));
      const cls = cmt ? "cmt" : str ? "str" : iri ? "iri" : v ? "var" : "kw";
      out += `<span class="${cls}">${esc(m)}</span>`;
      last = offset + m.length;
      return m;
    });
    shade.innerHTML = out + esc(text.slice(last)) + "\n";
  }
  query.addEventListener("input", highlight);
  query.addEventListener("scroll", () => { shade.scrollTop = query.scrollTop; });
  highlight();

  // Only on the button: on the list's change, an arrow key went through the examples over what was typed.
  const chosen = document.getElementById("examples");
  document.getElementById("load-example").addEventListener("click", () => {
    if (chosen.value === "") return;
    query.value = examples[Number(chosen.value)];  // complete, prefixes declared: as a client sends it
    highlight();
  });

  function curie(iri) {
    for (const [p, n] of Object.entries(ns)) if (iri.startsWith(n) && iri.length > n.length) return p + ":" + iri.slice(n.length);
    return iri;
  }
  function href(iri) { return iri.startsWith(base) ? "/" + iri.slice(base.length) : iri; }

  async function post(text, accept) {
    return fetch("/sparql", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
      body: new URLSearchParams({query: text})});
  }

  async function labels(iris) {
    if (!iris.length) return {};
    const values = iris.slice(0, 500).map((i) => `<${i}>`).join(" ");
    const r = await post(`SELECT ?s (SAMPLE(?l) AS ?label) WHERE { VALUES ?s { ${values} } ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } GROUP BY ?s`, "application/sparql-results+json");
    if (!r.ok) return {};
    const out = {};
    for (const b of (await r.json()).results.bindings) out[b.s.value] = b.label.value;
    return out;
  }

  function cell(term, names) {
    if (!term) return "";
    if (term.type === "uri") {
      const name = names[term.value];
      return `<a href="${esc(href(term.value))}">${esc(name || curie(term.value))}</a>` + (name ? `<br><small>${esc(curie(term.value))}</small>` : "");
    }
    if (term.type === "bnode") return "_:" + esc(term.value);
    return esc(term.value) + (term["xml:lang"] ? ` <small>@${esc(term["xml:lang"])}</small>` : "");
  }

  function links(text) {
    const q = encodeURIComponent(text);
    downloads.innerHTML = esc(words.downloads) + ["json", "xml", "csv", "tsv", "turtle", "jsonld", "ntriples", "rdfxml", "nquads"]
      .map((f) => ` <a href="/sparql?query=${q}&amp;format=${f}">${f}</a>`).join("");
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = query.value;
    links(text);
    status.textContent = words.running;
    results.innerHTML = "";
    const t0 = performance.now();
    const r = await post(text, "application/sparql-results+json, text/turtle;q=0.9");
    const ms = Math.round(performance.now() - t0);
    if (!r.ok) {  // the engine's message is English: said so, for a screen reader to read it as such
      const [before, after] = say("error", {status: r.status, message: "\n"}).split("\n");
      const message = Object.assign(document.createElement("span"), {lang: "en", textContent: await r.text()});
      status.replaceChildren(before, message, after);
      return;
    }
    const type = r.headers.get("Content-Type") || "";
    if (!type.includes("sparql-results+json")) {
      status.textContent = say("graph", {ms});
      results.innerHTML = `<pre>${esc(await r.text())}</pre>`;
      return;
    }
    const data = await r.json();
    if ("boolean" in data) { status.textContent = say("answer", {answer: data.boolean, ms}); return; }
    const vars = data.head.vars, rows = data.results.bindings;
    status.textContent = say("took", {count: counted(rows.length), ms});
    const iris = [...new Set(rows.flatMap((b) => Object.values(b).filter((t) => t.type === "uri").map((t) => t.value)))];
    const names = await labels(iris);
    results.innerHTML = `<table><thead><tr>${vars.map((v) => `<th>?${esc(v)}</th>`).join("")}</tr></thead><tbody>` +
      rows.slice(0, 5000).map((b) => `<tr>${vars.map((v) => `<td>${cell(b[v], names)}</td>`).join("")}</tr>`).join("") + "</tbody></table>";
  });
  if (form.hasAttribute("data-run")) form.requestSubmit();  // a link to a query: its results at once
})();
