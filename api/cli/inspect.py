"""``sensegraph stats`` and ``sensegraph sense``: what the graph holds, for people and scripts."""
from __future__ import annotations

import typer
from rich.table import Table

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, open_graph, print_json


@app.command("stats")
@handle_errors
def stats(store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Counts of entities, senses, relations, media, evidence and prototypes by source."""
    with open_graph(store) as sg:  # no model is loaded for this
        data = sg.stats()
        data["store"] = sg.store.describe()
    if as_json:
        print_json(data)
        return
    table = Table(title="sensegraph stats", show_header=False)
    for k, v in data.items():
        table.add_row(k, str(v))
    console.print(table)


@app.command("sense")
@handle_errors
def sense(sense_id: str = typer.Argument(...), store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """A sense: label, gloss, aliases, relations, prototype provenance and evidence media."""
    with open_graph(store) as sg:  # no model is loaded for this
        view = sg.sense(sense_id, with_prototype=as_json)
    if as_json:
        print_json(view.model_dump())
        return
    console.print(f"[bold]{view.sense_id}[/] {view.label}", highlight=False)
    console.print(view.gloss, highlight=False)
    if view.redirect_to:
        console.print(f"redirects to {view.redirect_to}")
    console.print(f"aliases: {', '.join(view.aliases) or '-'}", highlight=False)
    console.print(f"prototype: {view.prototype_source or 'none'}{' (+propagated)' if view.propagated else ''}; media: {view.media_count}")
    if view.related:
        t = Table("relation", "sense", "label")
        for r in view.related[:40]:
            t.add_row(f"{r['type']} ({r['direction']})", r["sense_id"], r["label"])
        console.print(t)
    if view.evidence:
        t = Table("medium", "confidence", "source", "uri")
        for e in view.evidence[:50]:
            t.add_row(e["media_id"], f"{e['confidence']:.3f}", e["source"] + (" detached" if e["detached"] else ""), str(e["uri"]))
        console.print(t)
