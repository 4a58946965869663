"""``sensegraph import-kg FILE|wordnet``: load a JSON Lines knowledge graph or WordNet 3.0 nouns."""
from __future__ import annotations

from typing import Any

import typer

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, print_json


@app.command("import-kg")
@handle_errors
def import_kg(
    source: str = typer.Argument(
        ..., help="A .jsonl file in the sensegraph KG format (docs/kg-format.md), 'wordnet', or 'cedict' "
        "(Chinese aliases for the WordNet senses in the store, from CC-CEDICT)."
    ),
    store: str = StoreOption,
    wordnet_dir: str = typer.Option(
        None,
        "--wordnet-dir",
        help="Directory with data.noun and index.noun. Default: $SENSEGRAPH_WORDNET_DIR, "
        "else /usr/share/wordnet (Debian's wordnet-base).",
        show_default=False,
    ),
    synset: list[str] = typer.Option(
        None,
        "--synset",
        help="wordnet only: import just these synsets (e.g. n02012849) and their hypernym closure. "
        "Repeatable.",
        show_default=False,
    ),
    batch_size: int = typer.Option(5000, "--batch-size", min=1, help="Records per store write."),
    as_json: bool = JsonOption,
) -> None:
    """Import a knowledge graph; a bad line aborts before anything is written; re-runs change nothing."""
    from sensegraph import SenseGraph

    with SenseGraph(store) as sg, _progress(quiet=as_json) as progress:
        report = sg.import_kg(source, wordnet_dir=wordnet_dir, synsets=synset or None, batch_size=batch_size,
                              progress=progress)
        counts = sg.store.counts()
        where = sg.store.describe()
    if as_json:
        print_json({**report.to_dict(), "store": where, "store_counts": counts})
        return
    _print_summary(report, where, counts)


class _progress:
    """A rich progress display with one bar per write phase; a no-op callback when quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Any:
        if self.quiet:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,  # the summary table replaces the bars; errors leave no debris
        )
        self.bar.start()
        self.parse_task = self.bar.add_task("reading", total=None)
        return self

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.parse_task is not None:
            self.bar.update(self.parse_task, total=1, completed=1)
            self.parse_task = None
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.advance(self.tasks[phase], done)

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.bar.stop()


def _print_summary(report: Any, where: str, counts: dict[str, int]) -> None:
    """A table of what was written, with rates, and the store's totals."""
    from rich.table import Table

    table = Table(title=f"imported {report.source} into {where}")
    table.add_column("kind")
    table.add_column("records", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("per second", justify="right")
    table.add_column("in store", justify="right")
    for phase, n in report.counts.items():
        in_store = counts.get(phase)  # the store counts every kind but has_sense
        table.add_row(
            phase,
            f"{n:,}",
            f"{report.phase_seconds.get(phase, 0.0):.2f}",
            f"{report.rate(phase):,.0f}",
            f"{in_store:,}" if in_store is not None else "",
        )
    table.add_row("total", f"{report.total:,}", f"{report.seconds:.2f}", "", "", end_section=True)
    console.print(table)
    console.print(f"read and validated in {report.parse_seconds:.2f}s; total {report.seconds:.2f}s")
