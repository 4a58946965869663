"""``sensegraph link "TEXT"``: mentions, their senses, confidences and every candidate's score parts."""
from __future__ import annotations

from typing import Any

import typer

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, open_graph, print_json

PART_ORDER = ("context", "prior", "coherence", "visual", "alias")


@app.command("link")
@handle_errors
def link(
    text: str = typer.Argument(..., help="Text to link (quote it)."),
    store: str = StoreOption,
    json_out: bool = JsonOption,
    top: int = typer.Option(3, "--top", min=1, help="Candidates shown per mention in the table."),
) -> None:
    """Link the mentions of TEXT to senses of the store's knowledge graph (NIL when unsure)."""
    with open_graph(store) as sg:
        mentions = sg.link(text)
        if json_out:
            print_json({"mentions": [m.to_dict() for m in mentions]})
            return
        labels = _labels(sg.store, mentions, top)
    console.print(_table(mentions, labels, top))


def _labels(store: Any, mentions: list[Any], top: int) -> dict[str, str]:
    """Labels of the senses the table shows, read in one batch."""
    ids = {c.sense_id for m in mentions for c in m.candidates[:top]}
    return {sid: s.label for sid, s in store.get_senses(sorted(ids)).items()}


def _table(mentions: list[Any], labels: dict[str, str], top: int) -> Any:
    from rich.table import Table

    table = Table(title=f"{len(mentions)} mention(s)", show_lines=True)
    for col in ("mention", "span", "sense", "confidence", "candidates (score: parts)"):
        table.add_column(col)
    for m in mentions:
        chosen = f"{m.sense_id} {labels.get(m.sense_id, '')}" if m.sense_id else "[dim]NIL[/]"
        lines = []
        for c in m.candidates[:top]:
            parts = " ".join(f"{k[:3]}={c.parts[k]:.2f}" for k in PART_ORDER if k in c.parts)
            lines.append(f"{c.sense_id} {labels.get(c.sense_id, '')} {c.score:.3f}: {parts}")
        more = len(m.candidates) - top
        if more > 0:
            lines.append(f"[dim]… {more} more[/]")
        table.add_row(m.text, f"{m.start}-{m.end}", chosen, f"{m.confidence:.2f}", "\n".join(lines))
    return table
