"""``sensegraph eval EVALSET``: retrieval quality per protocol, mode and query kind (table, JSON, plot)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from . import app
from ._common import JsonOption, StoreOption, console, err_console, handle_errors, print_json

METRIC_COLUMNS = ("hit@1", "MRR", "R@5", "R@10", "NDCG@10", "MAP")


@app.command("eval")
@handle_errors
def eval_cmd(
    evalset: Path = typer.Argument(..., help="Eval-set folder with media.jsonl and queries.jsonl (e.g. evalsets/core)."),
    store: str = StoreOption,
    protocol: str = typer.Option("both", "--protocol", help="captioned, cold or both."),
    split: str = typer.Option("test", "--split", help="Queries to report: test (reported numbers) or dev (tuning)."),
    subset: str = typer.Option(None, "--subset", help="A file of query ids, one per line (e.g. evalsets/core/ci.txt).",
                               show_default=False),
    limit: int = typer.Option(None, "--limit", min=1, help="At most this many queries.", show_default=False),
    mode: list[str] = typer.Option(None, "--mode", help="Modes to run (repeatable). Default: all registered.",
                                   show_default=False),
    failures: bool = typer.Option(False, "--failures", help="List the queries sense-aware gets wrong at rank 1."),
    plot: Path = typer.Option(None, "--plot", help="Write a PNG of hit@1 by mode and query kind.", show_default=False),
    matcher: bool = typer.Option(False, "--matcher", help="Formula alone vs formula + trained match head, and the "
                                 "no-match decision's precision/recall (queries.nomatch.jsonl; docs/matcher.md)."),
    as_json: bool = JsonOption,
) -> None:
    """Ingest the eval set per protocol (into --store/<protocol>, else a temporary store) and score every mode."""
    from sensegraph.errors import ValidationError
    from sensegraph.evaluation.dataset import load_evalset
    from sensegraph.evaluation.harness import PROTOCOLS, evaluate_protocol

    protocols = list(PROTOCOLS) if protocol == "both" else [protocol]
    if any(p not in PROTOCOLS for p in protocols):
        raise ValidationError(f"--protocol must be captioned, cold or both, got {protocol!r}")
    es = load_evalset(evalset)
    if matcher:
        from .matcher import run_matcher_eval

        return run_matcher_eval(es, protocols, split=split, store=store, as_json=as_json)
    ids = _read_ids(subset) if subset else None
    reports = [evaluate_protocol(es, p, split=split, store=store, mode_names=mode or None, query_ids=ids,
                                 limit=limit, progress=not as_json) for p in protocols]
    if plot is not None:
        from sensegraph.evaluation.plot import plot_hit_at_1

        plot_hit_at_1(reports, plot)
    if as_json:
        print_json({"evalset": es.name, "reports": [r.to_dict(with_queries=failures) for r in reports],
                    "plot": str(plot) if plot else None})
        return
    for rep in reports:
        _print_table(rep)
        if failures:
            _print_failures(rep)
    if plot is not None:
        err_console.print(f"plot written to {plot}")


def _read_ids(path: str) -> list[str]:
    from sensegraph.errors import ValidationError

    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"--subset file {path!r} not found")
    return [line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def _print_table(rep: Any) -> None:
    from rich.table import Table

    t = Table(title=f"{rep.protocol} protocol · {rep.split} split · {rep.queries} queries · gallery {rep.gallery}/{rep.media}")
    t.add_column("mode")
    t.add_column("α, β")
    t.add_column("kind")
    t.add_column("n", justify="right")
    for c in METRIC_COLUMNS:
        t.add_column(c, justify="right")
    for m in rep.modes:
        for i, (kind, row) in enumerate(m.by_kind.items()):
            t.add_row(m.mode if i == 0 else "", f"{m.alpha:g}, {m.beta:g}" if i == 0 and m.alpha is not None else "",
                      kind, str(int(row["n"])), *(f"{row[c]:.3f}" for c in METRIC_COLUMNS),
                      end_section=i == len(m.by_kind) - 1)
    console.print(t)


def _print_failures(rep: Any) -> None:
    from rich.table import Table

    mode = next((m for m in rep.modes if m.mode == "sense-aware"), None)
    if mode is None:
        return
    wrong = [o for o in mode.outcomes if o.scores["hit@1"] < 1.0]
    t = Table(title=f"{rep.protocol}: {len(wrong)} of {len(mode.outcomes)} queries sense-aware misses at rank 1")
    for c in ("query", "kind", "linked senses (conf)", "top hit (match, sim1, sim2)", "first gold rank"):
        t.add_column(c)
    for o in wrong:
        linked = ", ".join(
            f"{m.get('text', '?')}→{m.get('sense_id') or 'NIL'} ({m.get('confidence', 0):.2f})"
            + ("" if m.get("on_target") is None else (" ✓" if m["on_target"] else " ✗"))
            for m in o.linked) or "—"
        top = o.top[0] if o.top else None
        top_s = f"{top['media_id']} ({top['match']:.3f}, {top['sim1']:.3f}, {top['sim2']:.3f})" if top else "—"
        rank = next((i for i, mid in enumerate(o.ranked, start=1) if mid in set(o.gold)), None)
        t.add_row(o.text, o.kind, linked, top_s, str(rank) if rank else "not found")
    console.print(t)
