"""Word-sense evaluation built from WordNet's own usage examples, with a most-frequent-sense baseline.

Each example sentence quoted in a ``data.noun`` gloss illustrates its synset; where it contains a
polysemous lemma of that synset (inflections allowed: "objects", "geese") it becomes an item
``{text, start, end, lemma, gold}``. Items split deterministically by a SHA-1 of
``gold|text`` into dev (calibration) and test (held out); sense texts used for context scoring
are definitions only (``knowledge.definition_only``), so no example is ever seen while scoring.

    python -m sensegraph.linking.evaluation build            # rewrite linking/data/wsd_*.jsonl
    python -m sensegraph.linking.evaluation evaluate --store S [--split test] [--limit N] [--config JSON]
    python -m sensegraph.linking.evaluation calibrate --store S [--limit N] [--config JSON]

``evaluate`` also checks for leakage: no scored sense text may contain an item's sentence.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sensegraph.errors import ValidationError
from sensegraph.jsonl import read_jsonl

from .base import LinkedMention
from .disambiguate import combine

DATA_DIR = Path(__file__).parent / "data"
SPLITS = ("dev", "test")
DEFAULT_CAP = 1500  # items kept per split


@dataclass(frozen=True)
class WsdItem:
    """One sense-annotated mention: ``text[start:end]`` is ``lemma`` used in sense ``gold``."""

    text: str
    start: int
    end: int
    lemma: str
    gold: str


@dataclass
class EvalReport:
    """Accuracy of the linker and of the most-frequent-sense baseline on the same items."""

    n: int = 0
    correct: int = 0
    mfs_correct: int = 0
    nil: int = 0
    gold_missing: int = 0  # gold sense not among the candidates (capped or unknown)
    leaked: int = 0  # items whose sentence occurs in the text of one of their candidate senses
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def mfs_accuracy(self) -> float:
        return self.mfs_correct / self.n if self.n else 0.0

    def summary(self) -> dict[str, float | int]:
        return {
            "n": self.n, "accuracy": round(self.accuracy, 4), "mfs_accuracy": round(self.mfs_accuracy, 4),
            "nil": self.nil, "gold_missing": self.gold_missing, "leaked": self.leaked,
        }


# -- building the data set ----------------------------------------------------------------------
def inflections(lemma: str, irregular: dict[str, list[str]]) -> list[str]:
    """Surface forms a noun lemma may take in an example: itself, regular plurals, irregulars."""
    forms = {lemma, lemma + "s", lemma + "es", *irregular.get(lemma, [])}
    if lemma.endswith("y") and len(lemma) > 2:
        forms.add(lemma[:-1] + "ies")
    return sorted(forms, key=len, reverse=True)


def find_lemma(example: str, lemma: str, irregular: dict[str, list[str]]) -> tuple[int, int] | None:
    """Character span of the first whole-word occurrence of ``lemma`` (any inflection) in ``example``."""
    alternatives = "|".join(re.escape(f) for f in inflections(lemma, irregular))
    m = re.search(rf"(?<![\w-])(?:{alternatives})(?![\w-])", example, flags=re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def build_items(wordnet_dir: str | Path | None = None) -> list[WsdItem]:
    """Every (example, polysemous lemma) item WordNet's noun examples yield, in file order."""
    from sensegraph.graph.importers.wordnet import parse_noun_index, parse_noun_synsets, resolve_wordnet_dir

    from .morphology import load_noun_exceptions

    root = resolve_wordnet_dir(wordnet_dir)
    n_senses = {lemma: len(offs) for lemma, offs in parse_noun_index(root)}
    irregular: dict[str, list[str]] = {}
    for inflected, base in load_noun_exceptions(str(root / "noun.exc")).items():
        irregular.setdefault(base, []).append(inflected)
    items = []
    for syn in parse_noun_synsets(root):
        lemmas = [lem.lower() for lem in syn.lemmas if n_senses.get(lem.lower(), 0) >= 2]
        for example in syn.examples:
            for lemma in lemmas:
                span = find_lemma(example, lemma.replace("_", " "), irregular)
                if span:
                    items.append(WsdItem(example, span[0], span[1], lemma.replace("_", " "), syn.sense_id))
                    break
    return items


def split_items(items: Iterable[WsdItem], cap: int = DEFAULT_CAP) -> dict[str, list[WsdItem]]:
    """Deterministic dev/test split by SHA-1 of ``gold|text`` (even → dev), each capped in hash order."""
    keyed = sorted(
        ((hashlib.sha1(f"{it.gold}|{it.text}".encode()).hexdigest(), it) for it in items),
        key=lambda kv: kv[0],
    )
    out: dict[str, list[WsdItem]] = {"dev": [], "test": []}
    for digest, it in keyed:
        split = "dev" if int(digest[-1], 16) % 2 == 0 else "test"
        if len(out[split]) < cap:
            out[split].append(it)
    return out


def training_items(wordnet_dir: str | Path | None = None) -> list[WsdItem]:
    """Items for a learned scorer: in neither shipped split, and no sentence a dev or test sentence is."""
    held = {it.text for name in SPLITS for it in load_split(name)}
    return [it for it in build_items(wordnet_dir) if it.text not in held]


def write_split(items: Sequence[WsdItem], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps(asdict(it), ensure_ascii=False) + "\n")


def load_split(name: str, limit: int | None = None) -> list[WsdItem]:
    """Items of the shipped ``dev`` or ``test`` split (``linking/data/wsd_<name>.jsonl``)."""
    if name not in SPLITS:
        raise ValidationError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")
    path = DATA_DIR / f"wsd_{name}.jsonl"
    rows = (row for _, row in read_jsonl(path, what="linking split"))  # the one JSON Lines reader
    return [WsdItem(**r) for r in itertools.islice(rows, limit)]


# -- scoring ------------------------------------------------------------------------------------
def mfs_choice(linked: LinkedMention) -> str | None:
    """The most-frequent-sense baseline: the exact-alias candidate with the lowest HAS_SENSE rank."""
    exact = [c for c in linked.candidates if c.parts.get("alias", 1.0) >= 1.0] or linked.candidates
    return min(exact, key=lambda c: (c.rank, c.sense_id)).sense_id if exact else None


def evaluate(linker: Any, items: Sequence[WsdItem], batch: int = 64) -> EvalReport:
    """Link each item's gold span and count linker and MFS hits; rows keep every candidate's parts."""
    report = EvalReport()
    linked: list[LinkedMention] = []
    for i in range(0, len(items), batch):
        chunk = items[i : i + batch]
        linked.extend(r[0] for r in linker.link_spans_many([(it.text, [(it.start, it.end)]) for it in chunk]))
    knowledge = getattr(getattr(linker, "disambiguator", None), "knowledge", None)
    for it, lm in zip(items, linked):
        if knowledge is not None:
            report.leaked += leaks(it, knowledge.texts([c.sense_id for c in lm.candidates]).values())
        mfs = mfs_choice(lm)
        report.n += 1
        report.correct += lm.sense_id == it.gold
        report.mfs_correct += mfs == it.gold
        report.nil += lm.sense_id is None
        report.gold_missing += all(c.sense_id != it.gold for c in lm.candidates)
        report.rows.append({
            "gold": it.gold, "mfs": mfs,
            "candidates": [(c.sense_id, dict(c.parts)) for c in lm.candidates],
        })
    return report


def leaks(item: WsdItem, sense_texts: Iterable[str]) -> bool:
    """Whether the item's sentence (case and spacing aside) occurs in any of the sense texts."""
    needle = " ".join(item.text.lower().split())
    return any(needle in " ".join(t.lower().split()) for t in sense_texts)


def accuracy_with(rows: Sequence[dict[str, Any]], weights: dict[str, float]) -> float:
    """Accuracy on stored rows when the parts are recombined with ``weights`` (argmax, no NIL)."""
    if not rows:
        return 0.0
    hits = 0
    for row in rows:
        if row["candidates"]:
            best = max(row["candidates"], key=lambda sc: combine(sc[1], weights))[0]
            hits += best == row["gold"]
    return hits / len(rows)


def calibrate(rows: Sequence[dict[str, Any]], base: dict[str, float]) -> tuple[dict[str, float], float]:
    """Grid search of w_prior and w_coherence (w_context fixed) on dev rows; best weights and accuracy."""
    best, best_acc = dict(base), -1.0
    for wp in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0):
        for wc in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5):
            w = {**base, "prior": wp, "coherence": wc}
            acc = accuracy_with(rows, w)
            if acc > best_acc + 1e-9:
                best, best_acc = w, acc
    return best, best_acc


# -- command line -------------------------------------------------------------------------------
class TextMemo:
    """Text embeddings kept in a pickle between runs (sense texts and windows repeat across runs)."""

    def __init__(self, embed: Any, path: str | Path | None) -> None:
        import pickle

        self.embed, self.path = embed, Path(path) if path else None
        self.vectors: dict[str, Any] = {}
        if self.path is not None and self.path.is_file():
            with open(self.path, "rb") as fh:
                self.vectors = pickle.load(fh)

    def __call__(self, texts: Sequence[str]) -> Any:
        import numpy as np

        todo = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if todo:
            self.vectors.update(zip(todo, self.embed(todo)))
        return np.stack([self.vectors[t] for t in texts]) if texts else self.embed([])

    def save(self) -> None:
        import pickle

        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(self.vectors, fh)
            tmp.replace(self.path)


def _linker(store_uri: str, overrides: dict[str, Any] | None = None, memo: str | None = None) -> Any:
    from sensegraph.config import LinkerConfig
    from sensegraph.graph.factory import open_store

    from .linker import EntityLinker

    cfg = LinkerConfig(**(overrides or {}))
    if cfg.context_model == "mpnet":  # '{"context_model": "mpnet"}': the linker's larger context model
        from sensegraph.encoders.mpnet import MPNetTextEncoder

        model: Any = MPNetTextEncoder()
    else:
        from sensegraph.encoders.text import MiniLMTextEncoder

        model = MiniLMTextEncoder()
    return EntityLinker(open_store(store_uri), TextMemo(model.embed_texts, memo), cfg)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sensegraph.linking.evaluation")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="rebuild linking/data/wsd_{dev,test}.jsonl from WordNet")
    b.add_argument("--wordnet-dir", default=None)
    b.add_argument("--cap", type=int, default=DEFAULT_CAP)
    for name in ("evaluate", "calibrate"):
        p = sub.add_parser(name)
        p.add_argument("--store", required=True, help="a store with WordNet imported")
        p.add_argument("--split", default="test" if name == "evaluate" else "dev", choices=SPLITS)
        p.add_argument("--limit", type=int, default=None)
        p.add_argument("--config", default=None, help='linker settings as JSON, e.g. \'{"pos_model": null}\'')
        p.add_argument("--memo", default=None, help="a pickle file keeping text embeddings between runs")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        items = build_items(args.wordnet_dir)
        splits = split_items(items, args.cap)
        for name, rows in splits.items():
            write_split(rows, DATA_DIR / f"wsd_{name}.jsonl")
        print(json.dumps({"items": len(items), **{k: len(v) for k, v in splits.items()}}))
        return 0
    linker = _linker(args.store, json.loads(args.config) if args.config else None, args.memo)
    report = evaluate(linker, load_split(args.split, args.limit))
    linker.embed_texts.save()
    if args.cmd == "evaluate":
        print(json.dumps({"split": args.split, **report.summary()}))
        return 0
    weights, acc = calibrate(report.rows, linker.weights)
    print(json.dumps({"split": args.split, "uncalibrated": report.summary(), "weights": weights,
                      "accuracy": round(acc, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
