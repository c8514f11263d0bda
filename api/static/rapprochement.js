// /rapprochement: offers the file's columns, posts the form with fetch and shows the progress of the
// streamed answer (rows received / rows sent), then a link to download it: the bytes received, as the
// POST gives them (a BOM for a Windows-1252 file included: decoding would drop it). Without this script
// the form posts as usual and the browser downloads the CSV when it is complete.
(function () {
  "use strict";
  const form = document.getElementById("rapprochement");
  if (!form || !window.fetch || !window.TextDecoder) return;
  const [file, pasted, columns, progress, bar, state, result, link] = [
    "fichier", "colle", "colonnes", "progression", "barre", "etat", "resultat", "lien",
  ].map((id) => document.getElementById(id));
  let rows = 0;

  function countLines(text) {
    return text.split("\n").filter((line) => line.trim() !== "").length;
  }

  // The file's text as the server reads it: UTF-8, else Windows-1252 as French Excel writes it.
  function decode(buffer) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buffer);
    } catch (error) {
      return new TextDecoder("windows-1252").decode(buffer);
    }
  }

  file.addEventListener("change", () => {
    const chosen = file.files[0];
    if (!chosen) return;
    chosen.arrayBuffer().then((buffer) => {
      const text = decode(buffer);
      rows = Math.max(0, countLines(text) - 1);
      const first = text.split("\n", 1)[0];
      const delimiter = [";", "\t", ","].reduce((a, b) => (first.split(b).length > first.split(a).length ? b : a), ",");
      columns.replaceChildren(...first.split(delimiter).map((name) => {
        const option = document.createElement("option");
        option.value = name.trim().replace(/^"|"$/g, "");
        return option;
      }));
    });
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!(file.files[0])) rows = countLines(pasted.value);
    progress.hidden = false;
    result.hidden = true;
    bar.max = Math.max(rows, 1);
    bar.value = 0;
    state.textContent = "0 / " + rows;
    const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
    if (!response.ok) {
      state.textContent = await response.text();
      return;
    }
    const reader = response.body.getReader();
    const parts = [];
    let received = -1; // the header line
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.filter((byte) => byte === 10).length; // "\n", one byte in UTF-8
      bar.value = Math.min(received, bar.max);
      state.textContent = received + " / " + rows;
    }
    const blob = new Blob(parts, { type: "text/csv" });
    link.href = URL.createObjectURL(blob);
    link.textContent = form.dataset.done.replace("{n}", String(received));
    result.hidden = false;
  });
})();
