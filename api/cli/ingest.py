"""``sensegraph ingest`` and ``sensegraph rebuild-prototypes``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, print_json


@app.command("ingest")
@handle_errors
def ingest(
    manifest: Path = typer.Argument(..., help="JSON Lines or CSV manifest, or a folder of media with .txt captions"),
    store: str = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Embed, link and store media; update the prototypes of the senses they evidence."""
    from sensegraph import SenseGraph

    with SenseGraph(store) as sg:
        report = sg.ingest_manifest(manifest, progress=not as_json)
    if as_json:
        print_json(report.model_dump())
        return
    table = Table(title="ingest", show_header=False)
    for key in ("ingested", "already_present", "evidence_edges", "senses_touched", "prototypes_created", "prototypes_changed"):
        table.add_row(key.replace("_", " "), str(getattr(report, key)))
    table.add_row("skipped", str(len(report.skipped)))
    table.add_row("seconds", f"{report.seconds:.1f}")
    console.print(table)
    for s in report.skipped[:50]:
        console.print(f"[yellow]skipped[/] {s.ref}: {s.reason}", highlight=False)


@app.command("rebuild-prototypes")
@handle_errors
def rebuild_prototypes(
    strategy: str = typer.Option(None, help="mean | cluster | medoid (default: the configured one)"),
    store: str = StoreOption,
) -> None:
    """Recompute every sense's media prototype from its evidence."""
    from sensegraph import SenseGraph

    with SenseGraph(store) as sg:
        n = sg.rebuild_prototypes(strategy, progress=True)
        if strategy:
            sg.save_config()
    console.print(f"{n} prototypes written")
