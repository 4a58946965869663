// Progressive enhancement only: every form works without this file.
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
