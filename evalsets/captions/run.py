"""Caption fusion measured on evalsets/core: image-only (``default``) vs image + caption (``captioned``).

Under the *captioned* protocol every medium is ingested with its own human caption and the queries are
other text (no query equals a caption; checked below), so the caption modality can only help by what its
text says. Under the *cold* protocol the searched half has no caption: there the caption block only
changes the prototypes built from the captioned half. α, β are tuned on dev only; test is reported.

    python evalsets/captions/run.py [--encoder default|captioned] [--protocol captioned|cold] [--store DIR]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from sensegraph import SenseGraph
from sensegraph.evaluation import load_evalset
from sensegraph.evaluation.harness import evaluate_protocol

CORE = Path(__file__).resolve().parents[1] / "core"
MODES = ["text-only", "sense-aware", "sense-aware (defaults)"]


def leaks(evalset) -> list[str]:
    """Queries whose text is some medium's own caption (none may be)."""
    caps = {m.caption.strip().lower().rstrip(".") for m in evalset.media if m.caption}
    return [q.id for q in evalset.queries if q.text.strip().lower().rstrip(".") in caps]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", default="captioned", choices=["default", "captioned"])
    ap.add_argument("--protocol", default="captioned", choices=["captioned", "cold"])
    ap.add_argument("--store", default=None, help="a folder to keep the stores in (reused by a second run)")
    ap.add_argument("--splits", default="dev,test")
    args = ap.parse_args()
    evalset = load_evalset(CORE)
    bad = leaks(evalset)
    if bad:
        raise SystemExit(f"queries equal to a caption: {bad}")
    config = {"encoder": {"name": args.encoder}}
    store = args.store and str(Path(args.store) / args.encoder)
    out = {}
    for split in args.splits.split(","):
        rep = evaluate_protocol(evalset, args.protocol, split=split, store=store, mode_names=MODES,
                                sg_factory=lambda where: SenseGraph(where, config=config), progress=False)
        for m in rep.modes:
            a = m.by_kind["all"]
            out[f"{split}/{m.mode}"] = {"alpha": m.alpha, "beta": m.beta, "hit@1": round(a["hit@1"], 3), "mrr": round(a["MRR"], 3), "R@10": round(a["R@10"], 3),
                                        "n": a.get("n")}
            print(f"{args.encoder:9} {args.protocol:9} {split:4} {m.mode:24} α={m.alpha} β={m.beta} "
                  f"hit@1 {a['hit@1']:.3f} MRR {a['MRR']:.3f} R@10 {a['R@10']:.3f}", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
