"""Linking benchmark: matcher build time over all of WordNet, and mentions/s on a long document.

    python bench/bench_linking.py [--store DIR] [--chars 50000] [--no-encoder] [--no-pos] [--wsd [--memo F]]

Without ``--store`` WordNet 3.0 nouns are imported into a temporary EmbeddedStore first. The
document is WordNet's own usage examples (the shipped dev split) joined into one text, repeated up
to ``--chars``. ``--wsd`` adds the WordNet-example accuracy of the default linker beside the
most-frequent-sense baseline on both shipped splits (``--memo`` keeps text embeddings in a pickle
between runs). Prints a table; nothing is asserted.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _timed(fn):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="a store with WordNet imported (default: import one)")
    parser.add_argument("--chars", type=int, default=50_000, help="length of the long document")
    parser.add_argument("--no-encoder", action="store_true", help="skip the MiniLM context part")
    parser.add_argument("--no-pos", action="store_true", help="alias matching only (linker.pos_model null)")
    parser.add_argument("--wsd", action="store_true", help="accuracy vs most frequent sense on dev and test")
    parser.add_argument("--memo", default=None, help="with --wsd: a pickle keeping text embeddings between runs")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from sensegraph.graph.factory import open_store
    from sensegraph.linking.detect import PhraseMatcherDetector
    from sensegraph.linking.evaluation import load_split
    from sensegraph.linking.lexicon import Lexicon
    from sensegraph.linking.linker import EntityLinker

    rows: list[tuple[str, str]] = []
    tmp = None
    if args.store is None:
        from sensegraph.graph.importers.wordnet import import_wordnet

        tmp = tempfile.TemporaryDirectory()
        store = open_store(str(Path(tmp.name) / "wordnet"))
        _, secs = _timed(lambda: import_wordnet(store))
        rows.append(("import WordNet 3.0 nouns (embedded store)", f"{secs:.1f} s"))
    else:
        store = open_store(args.store)

    table, secs = _timed(store.alias_table)
    rows.append((f"alias_table() ({len(table):,} rows)", f"{secs:.2f} s"))
    lexicon, secs = _timed(lambda: Lexicon(table))
    rows.append((f"lexicon build ({sum(len(v) for v in lexicon.by_key.values()):,} keys)", f"{secs:.2f} s"))
    from sensegraph.config import LinkerConfig

    pos_model = None if args.no_pos else LinkerConfig().pos_model
    detector, secs = _timed(lambda: PhraseMatcherDetector(lexicon, pos_model=pos_model))
    rows.append((f"PhraseMatcher build (exact + lemma passes, tagger {pos_model})", f"{secs:.2f} s"))

    embed = None
    if not args.no_encoder:
        from sensegraph.encoders.text import MiniLMTextEncoder

        embed = MiniLMTextEncoder().embed_texts
    linker = EntityLinker(store, embed, detector=detector)
    linker._lexicon = lexicon  # reuse the lexicon measured above

    sentences = [it.text for it in load_split("dev")]
    doc = ""
    while len(doc) < args.chars:
        doc += ". ".join(sentences) + ". "
    doc = doc[: args.chars]
    mentions, secs = _timed(lambda: detector.detect(doc))
    rows.append((f"detect only: {len(doc):,} chars, {len(mentions):,} mentions", f"{len(mentions) / secs:,.0f} mentions/s"))
    linked, cold = _timed(lambda: linker.link(doc))
    rows.append((f"link (cold caches{', MiniLM' if embed else ''}): {len(linked):,} mentions", f"{len(linked) / cold:,.0f} mentions/s"))
    linked, warm = _timed(lambda: linker.link(doc))
    rows.append(("link again (sense caches warm)", f"{len(linked) / warm:,.0f} mentions/s"))
    nil = sum(m.sense_id is None for m in linked)
    rows.append(("NIL mentions", f"{nil:,} ({nil / max(len(linked), 1):.1%})"))

    if args.wsd and embed is not None:
        rows.extend(wsd_rows(store, embed, args.memo))

    out = Table(title="sensegraph linking benchmark")
    out.add_column("what")
    out.add_column("result", justify="right")
    for what, result in rows:
        out.add_row(what, result)
    Console().print(out)
    store.close()
    if tmp is not None:
        tmp.cleanup()


def wsd_rows(store, embed, memo: str | None) -> list[tuple[str, str]]:  # noqa: ANN001
    """Accuracy beside most-frequent-sense on each shipped split (default linker, a fresh one)."""
    from sensegraph.linking.evaluation import SPLITS, TextMemo, evaluate, load_split
    from sensegraph.linking.linker import EntityLinker

    cached = TextMemo(embed, memo)
    linker = EntityLinker(store, cached)
    out = []
    for split in SPLITS:
        report, secs = _timed(lambda split=split: evaluate(linker, load_split(split)))
        out.append((f"WordNet-example accuracy, {split} ({report.n:,} items, {secs:.0f} s)",
                    f"{report.accuracy:.3f} (MFS {report.mfs_accuracy:.3f}, leaked {report.leaked})"))
    cached.save()
    return out


if __name__ == "__main__":
    main()
