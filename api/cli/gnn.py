"""``sensegraph propagate`` and ``sensegraph eval-propagation``: GNN evidence propagation over the sense graph."""
from __future__ import annotations

import typer

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, open_graph, print_json, require_store


@app.command("propagate")
@handle_errors
def propagate_cmd(
    store: str = StoreOption,
    changed: bool = typer.Option(False, "--changed", help="Only re-infer near senses whose evidence changed since the last run."),
    as_json: bool = JsonOption,
) -> None:
    """Give senses with no or few media a propagated prototype (propagation.method; gnn retrains unless --changed)."""
    with open_graph(store) as sg:
        from sensegraph.propagation import propagate_graph

        report = propagate_graph(sg, changed_only=changed, progress=not as_json)
    if as_json:
        print_json(report.to_dict())
        return
    console.print(
        f"{report.mode} ({report.method}): wrote {report.written} propagated prototypes over {report.senses_in_graph} senses "
        f"({report.evidenced} evidenced{', ' + str(report.changed_senses) + ' changed' if report.changed_senses else ''}); "
        f"validation cosine {report.val_cosine}; seconds {report.seconds}",
        highlight=False,
    )


@app.command("eval-propagation")
@handle_errors
def eval_propagation_cmd(
    store: str = StoreOption,
    evalset: str = typer.Option("evalsets/core", "--evalset", help="Eval set folder (media.jsonl, queries.jsonl)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds over the evidenced senses."),
    seed: int = typer.Option(0, "--seed", help="Seed for folds and training."),
    method: list[str] = typer.Option(None, "--method", help="Only these methods (repeatable).", show_default=False),
    as_json: bool = JsonOption,
) -> None:
    """Hold out all media of cold-start senses; compare text-ridge, neighbour-mean, hypernym back-off and the GNN."""
    from sensegraph.progress import progress_for
    from sensegraph.propagation import evaluate_store

    report = evaluate_store(require_store(store), evalset, folds=folds, seed=seed, methods=method or None,
                            log=None if as_json else progress_for(True).note)
    if as_json:
        print_json(report.to_dict())
        return
    from rich.table import Table

    table = Table(title=f"cold-start propagation: {report.cold_senses} senses, {report.media} media, {report.folds} folds")
    for col in ("method", "cosine", "coverage", "sense hit@1", "sense MRR", "query hit@1", "query MRR"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, s in report.methods.items():
        table.add_row(name, *(f"{s[k]:.3f}" for k in ("cosine", "coverage", "sense_hit@1", "sense_mrr", "query_hit@1", "query_mrr")))
    console.print(table)
    console.print(f"{report.seconds:.1f}s; queries scored per method: {next(iter(report.methods.values()))['queries']}")
