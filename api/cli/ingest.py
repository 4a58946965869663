"""``sensegraph ingest`` and ``sensegraph rebuild-prototypes``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from ._common import JsonOption, StoreOption, console, err_console, handle_errors, open_graph, print_json

SHOWN_PER_KIND = 5  # skipped records listed under each reason; the rest are counted


INGEST_HELP = (
    "Embed, link and store media; update the prototypes of the senses they evidence.\n\n"
    'A manifest has one record per line: {"media": PATH or URL, "text": CAPTION, "id": ID} ("text" and "id" '
    "optional). Relative media paths are relative to the manifest's folder, not to the current directory.\n\n"
    "Exits 1 when no record could be stored (every one skipped, or none in the manifest), 2 on an error."
)


@app.command("ingest", help=INGEST_HELP)
@handle_errors
def ingest(
    manifest: Path = typer.Argument(..., help="JSON Lines or CSV manifest, or a folder of media with .txt captions"),
    store: str = StoreOption,
    encoder: str = typer.Option(None, "--encoder", help="the store's encoder, saved in it: default (images), captioned "
                                "(images with their caption as a second modality), multimodal "
                                "(images, sounds, videos; pip install '.[audio]', docs/audio.md) or audio; a store holding "
                                "another encoder's vectors refuses it"),
    as_json: bool = JsonOption,
) -> None:
    """Ingest a manifest (help text: ``INGEST_HELP``)."""
    from sensegraph import SenseGraph
    from sensegraph.ingest import SKIP_HINTS

    with SenseGraph(store, config={"encoder": {"name": encoder}} if encoder else None) as sg:
        report = sg.ingest_manifest(manifest, progress=not as_json)
        if encoder and report.stored:
            sg.save_config()  # later commands open the store with the same encoder
    for w in report.warnings:
        err_console.print(f"[bold yellow]warning:[/] {escape(w)}", highlight=False)
    if as_json:
        print_json(report.model_dump())
    else:
        table = Table(title="ingest", show_header=False)
        for key in ("ingested", "already_present", "evidence_edges", "senses_touched", "prototypes_created",
                    "prototypes_changed", "propagated"):
            table.add_row(key.replace("_", " "), str(getattr(report, key)))
        table.add_row("skipped", str(len(report.skipped)))
        table.add_row("seconds", f"{report.seconds:.1f}")
        console.print(table)
        for kind, records in report.skipped_by_kind().items():
            hint = SKIP_HINTS.get(kind, SKIP_HINTS["other"])
            console.print(f"[yellow]skipped {len(records)}[/] ({kind.replace('_', ' ')}): {escape(hint)}", highlight=False)
            for s in records[:SHOWN_PER_KIND]:
                console.print(f"  {escape(s.ref)}: {escape(s.reason)}", highlight=False)
            if len(records) > SHOWN_PER_KIND:
                console.print(f"  … and {len(records) - SHOWN_PER_KIND} more", highlight=False)
    if report.stored == 0:
        why = f"all {len(report.skipped)} records were skipped" if report.skipped else f"{manifest} holds no records"
        err_console.print(f"[bold red]nothing ingested:[/] {escape(why)}", highlight=False)
        raise typer.Exit(1)


@app.command("rebuild-prototypes")
@handle_errors
def rebuild_prototypes(
    strategy: str = typer.Option(None, help="mean | cluster | medoid (default: the configured one)"),
    store: str = StoreOption,
) -> None:
    """Recompute every sense's media prototype from its evidence."""
    with open_graph(store) as sg:
        if strategy:  # the command keeps the strategy for the store's later updates too
            sg.config = sg.config.merged({"prototypes": {"strategy": strategy}})
        n = sg.rebuild_prototypes(progress=True)
        if strategy:
            sg.save_config()
    console.print(f"{n} prototypes written")
