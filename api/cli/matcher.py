"""``sensegraph train-matcher`` and ``calibrate-no-match``: the learned match head and the "no match" threshold."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, open_graph, print_json


@app.command("train-matcher")
@handle_errors
def train_matcher_cmd(
    store: str = StoreOption,
    incremental: bool = typer.Option(False, "--incremental", help="Continue the saved head on captions added since it was trained."),
    epochs: int = typer.Option(None, "--epochs", min=1, help="Training epochs (default: the head's configuration).", show_default=False),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same store and seed give the same head."),
    rerank: bool = typer.Option(None, "--rerank/--no-rerank", help="Also switch search.rerank on or off in the store's configuration.",
                                show_default=False),
    as_json: bool = JsonOption,
) -> None:
    """Train the match head on the store's own evidence (captions and their media) and save it in the store.

    It re-ranks the formula's top K' once search.rerank is on (sensegraph config; docs/matcher.md).
    """
    from dataclasses import asdict, replace

    from sensegraph.matcher import HeadConfig, train_matcher

    cfg = HeadConfig(seed=seed)
    if epochs is not None:
        cfg = replace(cfg, epochs=epochs)
    with open_graph(store) as sg:
        report = train_matcher(sg, cfg, incremental=incremental)
        if rerank is not None:
            sg.config.search.rerank = rerank
            sg.save_config()
        rerank = sg.config.search.rerank
    if as_json:
        print_json({**asdict(report), "rerank_on": rerank})
        return
    t = Table(title="match head trained" + (" (incremental)" if incremental else ""), show_header=False)
    for key in ("encoder_id", "queries", "positives", "negatives", "hard_negatives", "text_only_queries", "epochs",
                "loss_first", "loss_last", "seconds"):
        t.add_row(key.replace("_", " "), str(getattr(report, key)))
    t.add_row("re-ranking", "on (search.rerank)" if rerank else "off: train-matcher --rerank (search.rerank) turns it on")
    console.print(t)


@app.command("calibrate-no-match")
@handle_errors
def calibrate_no_match_cmd(
    devset: Path = typer.Argument(..., help="An eval-set folder: its dev queries with answers (queries.jsonl) and without (queries.nomatch.jsonl)."),
    store: str = StoreOption,
    target_precision: float = typer.Option(0.9, "--target-precision", min=0.01, max=1.0, help="Precision the 'no match' decision must reach on dev."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report without saving the threshold."),
    as_json: bool = JsonOption,
) -> None:
    """Choose the threshold behind search(..., threshold="auto") on dev queries; save it in the store."""
    from dataclasses import asdict

    from sensegraph.evaluation.dataset import load_evalset
    from sensegraph.evaluation.nomatch import load_nomatch
    from sensegraph.matcher.no_match import calibrate_no_match

    es = load_evalset(devset)
    nomatch = [q.text for q in load_nomatch(devset) if q.split == "dev"]
    with open_graph(store) as sg:
        stored = {m.media_id for batch in sg.store.iter_media(vectors=False) for m in batch}
        answerable = [q.text for q in es.select("dev") if q.lang == "en" and any(g in stored for g in q.gold)]
        result = calibrate_no_match(sg, answerable, nomatch, target=target_precision, save=not dry_run)
    if as_json:
        print_json(asdict(result))
        return
    t = Table(title=f"no-match threshold on the {result.score} score", show_header=False)
    t.add_row("threshold", f"{result.threshold:.4f}")
    t.add_row("dev precision / recall", f"{result.precision:.3f} / {result.recall:.3f} (target {result.target_precision:.2f}"
              + ("" if result.reached_target else ", not reached: 'auto' never says no match") + ")")
    t.add_row("dev queries", f"{result.answerable} with answers, {result.nomatch} without")
    t.add_row("written", "no (dry run)" if dry_run else "store metadata")
    console.print(t)


def run_matcher_eval(es, protocols: list[str], *, split: str, store: str | None, as_json: bool) -> None:
    """``sensegraph eval --matcher``: the formula vs formula + head table and the no-match decision, per protocol."""
    from sensegraph.evaluation.matcher_eval import evaluate_matcher

    reports = [evaluate_matcher(es, p, split=split, store=store, progress=not as_json) for p in protocols]
    if as_json:
        print_json({"evalset": es.name, "matcher": reports})
        return
    for rep in reports:
        t = Table(title=f"{rep['protocol']} protocol · {split} split · {rep['queries']} queries, "
                        f"{rep['nomatch_queries']} without an answer · gallery {rep['gallery']}")
        for c in ("ranking", "α, β", "hit@1", "MRR", "R@10", "no-match P", "no-match R", "τ (dev)"):
            t.add_column(c, justify="left" if c == "ranking" else "right")
        for name, row in rep["rows"].items():
            m, nm = row["metrics"].get("all", {}), row.get("no_match")
            t.add_row(name, f"{row['alpha']:g}, {row['beta']:g}", *(f"{m.get(c, 0):.3f}" for c in ("hit@1", "MRR", "R@10")),
                      *((f"{nm['precision']:.3f}", f"{nm['recall']:.3f}", f"{nm['threshold']:.3f}") if nm else ("-", "-", "-")))
        console.print(t)
