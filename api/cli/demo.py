"""``sensegraph demo``: WordNet + packaged images, then text-only beside sense-aware for ambiguous queries."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from . import app
from ._common import StoreOption, console, handle_errors


@app.command("demo")
@handle_errors
def demo(
    store: str = StoreOption,
    evalset: Path = typer.Option(None, help="eval-set folder (default: evalsets/core of this checkout)"),
    limit: int = typer.Option(12, min=1, help="how many queries to show"),
) -> None:
    """The main job: import WordNet, ingest packaged images, compare text-only and sense-aware rankings."""
    from sensegraph import SenseGraph
    from sensegraph.demo import compare, find_evalset, prepare

    folder = find_evalset(evalset)
    with SenseGraph(store) as sg:
        console.print(f"[bold]store[/] {sg.store.describe()}  [bold]eval set[/] {folder}", highlight=False)
        ev, gallery = prepare(sg, folder)
        console.print(f"{len(ev.media)} media ingested; {len(gallery)} of them without captions form the gallery searched below; "
                      f"α={sg.config.search.alpha}, β={sg.config.search.beta} calibrated on the dev queries")
        rows = compare(sg, ev, gallery, kinds=("ambiguous_context",), limit=limit)
        t = Table(title="text-only (β=0) beside sense-aware (α, β from the configuration); ✓ = a relevant medium")
        for col in ("query", "linked", "text-only top 3", "sense-aware top 3"):
            t.add_column(col)
        wins = {"text-only": 0, "sense-aware": 0}
        for r in rows:
            wins["text-only"] += bool(r.text_only and r.text_only[0][1])
            wins["sense-aware"] += bool(r.sense_aware and r.sense_aware[0][1])
            t.add_row(r.query, "\n".join(r.linked) or "-", _fmt(r.text_only), _fmt(r.sense_aware))
        console.print(t)
        console.print(f"top-1 relevant: text-only {wins['text-only']}/{len(rows)}, sense-aware {wins['sense-aware']}/{len(rows)}")
        console.print("next: sensegraph search \"a bat and a ball\" | sensegraph serve (REST + editor) | sensegraph eval evalsets/core")


def _fmt(items: list[tuple[str, bool]]) -> str:
    return "\n".join(f"{'✓' if ok else '✗'} {mid}" for mid, ok in items) or "-"
