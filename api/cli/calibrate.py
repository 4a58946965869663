"""``sensegraph calibrate DEVSET``: tune α, β and the NIL threshold on labelled queries; save them."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, open_graph, print_json


@app.command("calibrate")
@handle_errors
def calibrate(
    devset: Path = typer.Argument(..., help="an eval-set folder (its dev split) or JSON Lines {text, gold: [media ids]}"),
    store: str = StoreOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="report without writing the configuration"),
    as_json: bool = JsonOption,
) -> None:
    """Grid-search alpha, beta and linker.nil_threshold by MRR and write the best into the store's configuration."""
    from sensegraph.calibration import calibrate as run, load_dev_queries

    with open_graph(store) as sg:
        queries = load_dev_queries(devset)
        result = run(sg, queries, save=not dry_run)
    if as_json:
        print_json(result.__dict__)
        return
    t = Table(title=f"calibrated on {result.queries} dev queries", show_header=False)
    t.add_row("alpha", f"{result.alpha:.2f}")
    t.add_row("beta", f"{result.beta:.2f}")
    t.add_row("linker.nil_threshold", f"{result.nil_threshold:.2f}")
    t.add_row("MRR (sense-aware)", f"{result.mrr:.3f}")
    t.add_row("MRR (text-only)", f"{result.text_only_mrr:.3f}")
    t.add_row("written", "no (dry run)" if dry_run else "store configuration")
    console.print(t)
