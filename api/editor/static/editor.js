// Progressive enhancement only: every form works without this file. No inline script anywhere,
// so the editor runs under a strict CSP (script-src 'self'; connect-src 'self').
document.addEventListener("submit", (ev) => {
  const form = ev.target;
  const msg = form.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); return; }
  for (const input of form.querySelectorAll("input[type=file][data-max-bytes]")) {
    const cap = Number(input.dataset.maxBytes);
    for (const f of input.files) {
      if (f.size > cap) { ev.preventDefault(); alert(`${f.name} is larger than ${cap} bytes`); return; }
    }
  }
});
// Choosing a cluster in the split selector ticks that cluster's media, so the selection is visible.
document.addEventListener("change", (ev) => {
  const sel = ev.target;
  if (sel.name !== "cluster" || !sel.form) return;
  for (const tile of sel.form.querySelectorAll("li[data-media]")) {
    const box = tile.querySelector("input[name=media_ids]");
    if (box && !box.disabled) box.checked = sel.value !== "" && tile.dataset.cluster === sel.value;
  }
});
// Sense autocomplete: a field with data-sense-picker fills its <datalist> from /editor/senses.json
// (the finder's ranking), each option the sense id with its label and gloss.
let pickerTimer = null;
document.addEventListener("input", (ev) => {
  const input = ev.target;
  if (!input.matches || !input.matches("input[data-sense-picker]") || !input.list) return;
  clearTimeout(pickerTimer);
  const q = input.value.trim();
  if (q.length < 2) return;
  pickerTimer = setTimeout(async () => {
    const resp = await fetch(`/editor/senses.json?limit=12&q=${encodeURIComponent(q)}`);
    if (!resp.ok || input.value.trim() !== q) return;
    const data = await resp.json();
    const list = input.list;
    list.replaceChildren(...data.senses.filter((s) => !s.redirect_to).map((s) => {
      const opt = document.createElement("option");
      opt.value = s.sense_id;
      opt.textContent = `${s.label} · ${s.gloss} (${s.media_count} media)`;
      return opt;
    }));
    input.dataset.loaded = q;
  }, 150);
});
