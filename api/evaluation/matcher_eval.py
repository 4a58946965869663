"""Formula alone vs formula + match head on one protocol, and the no-match decision for each.

The sense-aware α, β are calibrated on the dev split as ``sensegraph eval`` does; the head is then
trained on the eval store's own evidence (the captioned half under *cold*) at those α, β and
re-ranks the formula's candidates. The no-match threshold for each score is chosen on dev (answerable
dev queries against dev no-match queries, target precision) and scored on the test split.
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sensegraph.progress import Progress, progress_for

from .dataset import EvalSet
from .harness import (by_kind, calibrate, ensure_kg, ingest_in_steps, ingest_records, memoize_linking, restrict,
                      run_queries)
from .nomatch import load_nomatch, top_scores


def evaluate_matcher(evalset: EvalSet, protocol: str = "cold", *, split: str = "test", store: str | None = None,
                     target_precision: float = 0.9, progress: bool | Progress = False, sg_factory: Any = None) -> dict[str, Any]:
    """Rows ``formula`` and ``formula+head``: metrics by kind and no-match precision/recall on ``split``."""
    from sensegraph.matcher import train_matcher
    from sensegraph.matcher.no_match import choose_threshold, precision_recall

    prog = progress_for(progress)
    records, gallery = ingest_records(evalset, protocol)
    test_pairs = [p for p in restrict(evalset.select(split), gallery) if p[0].lang == "en"]
    dev_pairs = [p for p in restrict(evalset.select("dev"), gallery) if p[0].lang == "en"]
    nomatch = load_nomatch(evalset.root)
    nm_dev = [q.text for q in nomatch if q.split == "dev"]
    nm_test = [q.text for q in nomatch if q.split == split]
    with tempfile.TemporaryDirectory(prefix=f"sensegraph-matcher-{protocol}-") as tmp:
        where = str(Path(tmp) / "store") if store is None else (store if "://" in store else str(Path(store) / protocol))
        if sg_factory is None:
            from sensegraph import SenseGraph as sg_factory  # noqa: N813
        sg = sg_factory(where)
        try:
            memoize_linking(sg)
            ensure_kg(sg, progress=prog)
            ingest_in_steps(sg, records, prog, label=f"{protocol}: ingest")
            depth = max(int(sg.store.counts().get("media", 0)), len(records))
            sg.linker.prefill([q.text for q, _ in [*test_pairs, *dev_pairs]] + nm_dev + nm_test, progress=prog)
            a, b = calibrate(sg, dev_pairs, gallery, depth, progress=prog, label=f"{protocol}: calibrating α, β")
            sg.config = sg.config.merged({"search": {"alpha": a, "beta": b, "rerank": False}})  # a new engine
            rows = {}
            for name in ("formula", "formula+head"):
                if name == "formula+head":
                    prog.note(f"{protocol}: training the match head on the store's evidence")
                    report = train_matcher(sg)
                    sg.config = sg.config.merged({"search": {"rerank": True}})
                score = "head" if name.endswith("head") else "formula"
                with prog.phase(f"{protocol}/{name}: {split} queries", total=len(test_pairs), unit="queries") as step:
                    outs = run_queries(sg, test_pairs, gallery, alpha=a, beta=b, depth=depth, step=step)
                row: dict[str, Any] = {"metrics": by_kind(outs), "alpha": a, "beta": b}
                if nm_dev and nm_test:
                    kw = {"alpha": a, "beta": b, "depth": depth, "score": score}
                    dev_a = top_scores(sg, [q.text for q, _ in dev_pairs], gallery, **kw)
                    dev_n = top_scores(sg, nm_dev, gallery, **kw)
                    tau, dp, dr, reached = choose_threshold(dev_a, dev_n, target_precision)
                    test_a = top_scores(sg, [q.text for q, _ in test_pairs], gallery, **kw)
                    test_n = top_scores(sg, nm_test, gallery, **kw)
                    p, r = precision_recall(test_a, test_n, tau)
                    row["no_match"] = {"score": score, "threshold": round(tau, 6), "target_precision": target_precision,
                                       "reached_on_dev": reached, "dev_precision": round(dp, 4), "dev_recall": round(dr, 4),
                                       "precision": round(p, 4), "recall": round(r, 4),
                                       "answerable": len(test_a), "nomatch": len(test_n)}
                if name == "formula+head":
                    row["training"] = {k: v for k, v in asdict(report).items() if k != "config"}
                rows[name] = row
        finally:
            sg.close()
    return {"protocol": protocol, "split": split, "gallery": len(gallery), "queries": len(test_pairs),
            "nomatch_queries": len(nm_test), "rows": rows}
