"""WordNet 3.0 noun graph from Debian's ``wordnet-base``: a pure parser and a store importer.

``cntlist.rev`` holds WordNet 3.0's SemCor tag counts (``sense_key sense_number tag_count``);
they are stored per (lemma, sense) as the linker's frequency prior (``TAG_COUNTS_META``).
WordNet is © Princeton University under the WordNet 3.0 licence (BSD-like: use, copy, modify and
distribute with the copyright notice kept; https://wordnet.princeton.edu/license-and-commercial-use).

``data.noun`` holds one synset per line (offset, lemmas, pointers, ``| gloss``); ``index.noun`` one
lemma per line with its synset offsets in sense-frequency order, which gives the HAS_SENSE rank
(1 = most frequent; the most-frequent-sense baseline depends on it). The format is documented in
WordNet's ``wndb(5)`` man page. Senses use the ImageNet id convention ``n`` + 8-digit offset.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from sensegraph.errors import ConfigError, ValidationError

from ..base import GraphStore
from ..model import Alias, Entity, HasSense, Relation, Sense
from .report import ImportReport, Progress, write_batches

DEFAULT_WORDNET_DIR = "/usr/share/wordnet"
TAG_COUNTS_META = "prior.tag_counts"  # store meta key: JSON {lemma: {sense_id: SemCor tag count}}
WORDNET_DIR_ENV = "SENSEGRAPH_WORDNET_DIR"

# Pointer symbol -> relation type, each stored once, child -> parent. The inverse pointers
# (~ hyponym, ~i instance hyponym, %p %m %s meronyms) describe the same edges and are skipped.
RELATION_POINTERS: dict[str, str] = {
    "@": "hypernym",
    "@i": "instance_hypernym",
    "#p": "part_holonym",
    "#m": "member_holonym",
    "#s": "substance_holonym",
}
UPWARD_TYPES = frozenset({"hypernym", "instance_hypernym"})
_EXAMPLE = re.compile(r'"([^"]*)"')
# Examples start at a quote that opens the gloss or follows "; " (a few glosses use ': "…"' last).
_EXAMPLES_START = re.compile(r'(?:^|;\s*|:\s*(?="[^"]*"\s*(?:;|$)))"')


class Pointer(NamedTuple):
    """One pointer of a synset: symbol (``@``, ``#p`` …), target offset and part of speech."""

    symbol: str
    offset: str
    pos: str


@dataclass(frozen=True)
class Synset:
    """A parsed ``data.noun`` line; ``lemmas`` keep WordNet's casing and underscores."""

    offset: str
    lex_filenum: int
    lemmas: tuple[str, ...]
    definition: str
    examples: tuple[str, ...] = ()
    pointers: tuple[Pointer, ...] = field(default=(), repr=False)

    @property
    def sense_id(self) -> str:
        """``n`` + 8-digit offset, the ImageNet convention (``n02012849``)."""
        return "n" + self.offset

    @property
    def label(self) -> str:
        """First lemma with underscores as spaces."""
        return self.lemmas[0].replace("_", " ")

    def relations(self) -> Iterator[Relation]:
        """The child -> parent relations this synset starts (noun targets only)."""
        for p in self.pointers:
            rel_type = RELATION_POINTERS.get(p.symbol)
            if rel_type is not None and p.pos == "n":
                yield Relation(self.sense_id, "n" + p.offset, rel_type)


def resolve_wordnet_dir(wordnet_dir: str | os.PathLike[str] | None = None) -> Path:
    """``wordnet_dir``, else ``$SENSEGRAPH_WORDNET_DIR``, else ``/usr/share/wordnet``; checked."""
    path = Path(wordnet_dir or os.environ.get(WORDNET_DIR_ENV) or DEFAULT_WORDNET_DIR)
    missing = [n for n in ("data.noun", "index.noun") if not (path / n).is_file()]
    if missing:
        raise ConfigError(
            f"WordNet directory {str(path)!r} lacks {', '.join(missing)}; install Debian's "
            f"wordnet-base (apt-get install wordnet-base) or pass --wordnet-dir"
        )
    return path


def split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """Split a WordNet gloss into its definition and its quoted usage examples."""
    gloss = gloss.strip()
    m = _EXAMPLES_START.search(gloss)
    definition = gloss[: m.start()] if m else gloss
    examples = tuple(e.strip() for e in _EXAMPLE.findall(gloss[m.start():] if m else ""))
    return definition.strip().strip(";").strip(), tuple(e for e in examples if e)


def parse_synset_line(line: str, where: str = "data.noun") -> Synset:
    """Parse one ``data.noun`` line (``wndb(5)``); ``where`` names the line in errors."""
    head, bar, gloss = line.partition(" | ")
    if not bar:
        head, gloss = line.rstrip(), ""
    f = head.split()
    try:
        offset, lex_filenum, w_cnt = f[0], int(f[1]), int(f[3], 16)
        lemmas = tuple(f[4 + 2 * i] for i in range(w_cnt))
        i = 4 + 2 * w_cnt
        p_cnt = int(f[i])
        pointers = tuple(
            Pointer(f[i + 1 + 4 * j], f[i + 2 + 4 * j], f[i + 3 + 4 * j]) for j in range(p_cnt)
        )
    except (IndexError, ValueError) as exc:
        raise ValidationError(f"{where}: not a WordNet synset line ({exc}): {line[:80]!r}") from None
    if len(offset) != 8 or not offset.isdigit() or not lemmas:
        raise ValidationError(f"{where}: bad synset offset or no lemmas: {line[:80]!r}")
    definition, examples = split_gloss(gloss)
    return Synset(offset, lex_filenum, lemmas, definition, examples, pointers)


def parse_noun_synsets(path: str | os.PathLike[str]) -> Iterator[Synset]:
    """Yield every synset of a ``data.noun`` file (or of ``path/data.noun`` for a directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / "data.noun"
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("  ") or not line.strip():  # licence header
                continue
            yield parse_synset_line(line, f"{path}:{lineno}")


def parse_noun_index(path: str | os.PathLike[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Yield ``(lemma, offsets)`` from ``index.noun``; offsets in sense-frequency order."""
    path = Path(path)
    if path.is_dir():
        path = path / "index.noun"
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("  ") or not line.strip():
                continue
            f = line.split()
            try:
                lemma, synset_cnt, p_cnt = f[0], int(f[2]), int(f[3])
                offsets = tuple(f[6 + p_cnt: 6 + p_cnt + synset_cnt])
            except (IndexError, ValueError):
                raise ValidationError(f"{path}:{lineno}: not a WordNet index line: {line[:80]!r}") from None
            if len(offsets) != synset_cnt:
                raise ValidationError(f"{path}:{lineno}: expected {synset_cnt} offsets for {lemma!r}")
            yield lemma, offsets


def parse_tag_counts(
    root: str | os.PathLike[str], index: dict[str, tuple[str, ...]] | None = None
) -> dict[str, dict[str, int]]:
    """Noun SemCor counts from ``cntlist.rev`` as ``{lemma: {sense_id: count}}`` ({} when the file is absent).

    A sense key ``bank%1:17:01::`` names its lemma and part of speech (1 = noun); the sense
    number indexes the lemma's offsets in ``index.noun`` (same WordNet 3.0 release).
    """
    path = Path(root) / "cntlist.rev"
    if not path.is_file():
        return {}
    if index is None:
        index = dict(parse_noun_index(root))
    out: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            f = line.split()
            if len(f) != 3 or "%1:" not in f[0]:
                continue
            lemma = f[0].split("%", 1)[0]
            try:
                number, count = int(f[1]), int(f[2])
            except ValueError:
                raise ValidationError(f"{path}:{lineno}: not a cntlist line: {line[:80]!r}") from None
            offsets = index.get(lemma, ())
            if count > 0 and 1 <= number <= len(offsets):
                out.setdefault(lemma.replace("_", " "), {})["n" + offsets[number - 1]] = count
    return out


def entity_id(lemma: str) -> str:
    """``wn:`` + the lowercased lemma (underscores kept): ``wn:wading_bird``."""
    return "wn:" + lemma.lower()


def alias_forms(lemma: str) -> list[str]:
    """A lemma's alias texts: underscores as spaces, plus hyphens as spaces when it has any."""
    spaced = lemma.replace("_", " ")
    forms = [spaced]
    if "-" in spaced:
        forms.append(" ".join(spaced.replace("-", " ").split()))
    return forms


def hypernym_closure(synsets: dict[str, Synset], roots: Iterable[str]) -> set[str]:
    """Sense ids of ``roots`` and all their (instance) hypernyms, transitively."""
    todo = [_sense_id(r) for r in roots]
    unknown = [s for s in todo if s not in synsets]
    if unknown:
        raise ValidationError(f"unknown WordNet noun synset(s): {', '.join(unknown[:10])}")
    seen: set[str] = set()
    while todo:
        sid = todo.pop()
        if sid in seen:
            continue
        seen.add(sid)
        todo.extend(r.target for r in synsets[sid].relations() if r.type in UPWARD_TYPES)
    return seen


@dataclass
class WordNetGraph:
    """The records a WordNet import writes, built from the parsed files (no store involved)."""

    senses: list[Sense]
    entities: list[Entity]
    aliases: list[Alias]
    has_sense: list[HasSense]
    relations: list[Relation]
    tag_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # lemma -> sense -> SemCor count


def build_graph(
    wordnet_dir: str | os.PathLike[str] | None = None,
    *,
    synsets: Collection[str] | None = None,
    closure: bool = True,
    limit: int | None = None,
    select: Callable[[Synset], bool] | None = None,
) -> WordNetGraph:
    """Turn WordNet's noun files into store records, optionally for a subgraph only.

    ``synsets`` (ids like ``n02012849`` or bare offsets) keeps those synsets, plus their hypernym
    closure when ``closure``; ``select`` keeps the synsets it accepts; ``limit`` keeps the first
    ``limit`` synsets in file order. Relations are kept only between kept synsets; HAS_SENSE ranks
    stay WordNet's global ranks, so a subgraph may show gaps (rank 5 without ranks 1-4).
    """
    root = resolve_wordnet_dir(wordnet_dir)
    roots = None if synsets is None else [_sense_id(s) for s in synsets]  # fail before parsing
    by_id = {s.sense_id: s for s in parse_noun_synsets(root / "data.noun")}
    keep: set[str] | None = None
    if roots is not None:
        keep = hypernym_closure(by_id, roots) if closure else set(roots)
        missing = sorted(keep - by_id.keys())
        if missing:
            raise ValidationError(f"unknown WordNet noun synset(s): {', '.join(missing[:10])}")
    chosen = [s for s in by_id.values() if (keep is None or s.sense_id in keep)]
    if select is not None:
        chosen = [s for s in chosen if select(s)]
    if limit is not None:
        chosen = chosen[: max(0, limit)]
    kept = {s.sense_id for s in chosen}

    senses = [Sense(s.sense_id, s.label, s.definition) for s in chosen]
    relations = [r for s in chosen for r in s.relations() if r.target in kept]
    has_sense: list[HasSense] = []
    index = dict(parse_noun_index(root / "index.noun"))
    for lemma, offsets in index.items():
        for rank, off in enumerate(offsets, 1):
            if "n" + off in kept:
                has_sense.append(HasSense(entity_id(lemma), "n" + off, rank))

    # Entity name and aliases keep WordNet's casing ("New York"); the name comes from the
    # entity's best-ranked kept synset, so "crane" is named after its rank-1 sense.
    cased: dict[str, list[str]] = {}
    for s in chosen:
        for lemma in s.lemmas:
            forms = cased.setdefault(entity_id(lemma), [])
            if lemma not in forms:
                forms.append(lemma)
    best = _best_lemma(has_sense, by_id)
    entities, aliases = [], []
    for eid in sorted({h.entity_id for h in has_sense}):
        forms = cased.get(eid) or [eid[3:]]
        name_lemma = best.get(eid, forms[0])
        entities.append(Entity(eid, name_lemma.replace("_", " ")))
        texts: list[str] = []
        for lemma in [name_lemma, *forms]:
            texts.extend(t for t in alias_forms(lemma) if t not in texts)
        aliases.extend(Alias(t, eid, "en") for t in texts)
    counts = {
        lemma: kept_counts
        for lemma, by_sense in parse_tag_counts(root, index).items()
        if (kept_counts := {sid: n for sid, n in by_sense.items() if sid in kept})
    }
    return WordNetGraph(senses, entities, aliases, has_sense, relations, counts)


def import_wordnet(
    store: GraphStore,
    wordnet_dir: str | os.PathLike[str] | None = None,
    *,
    synsets: Collection[str] | None = None,
    closure: bool = True,
    limit: int | None = None,
    select: Callable[[Synset], bool] | None = None,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> ImportReport:
    """Import WordNet 3.0 nouns (or a subgraph, see ``build_graph``) into ``store``; idempotent."""
    t0 = time.perf_counter()
    graph = build_graph(wordnet_dir, synsets=synsets, closure=closure, limit=limit, select=select)
    parse_s = time.perf_counter() - t0
    report = write_graph(store, graph, batch_size=batch_size, progress=progress)
    report.source = str(resolve_wordnet_dir(wordnet_dir))
    report.parse_seconds = parse_s
    report.seconds = time.perf_counter() - t0
    return report


def write_graph(
    store: GraphStore, graph: WordNetGraph, *, batch_size: int = 5000, progress: Progress | None = None
) -> ImportReport:
    """Write already built WordNet records (``build_graph``) through the store's batched upserts,
    then the SemCor counts (merged into the store's table, so a subgraph import adds to a bigger one)."""
    report = write_batches(
        store,
        entities=graph.entities,
        aliases=graph.aliases,
        senses=graph.senses,
        has_sense=graph.has_sense,
        relations=graph.relations,
        batch_size=batch_size,
        progress=progress,
    )
    if graph.tag_counts:
        table = read_tag_counts(store)
        for lemma, by_sense in graph.tag_counts.items():
            table.setdefault(lemma, {}).update(by_sense)
        store.set_meta(TAG_COUNTS_META, json.dumps(table, sort_keys=True, separators=(",", ":")))
        report.counts["tag_counts"] = sum(len(v) for v in graph.tag_counts.values())
    return report


def read_tag_counts(store: GraphStore) -> dict[str, dict[str, int]]:
    """The store's SemCor counts ``{lemma: {sense_id: count}}`` ({} when none were imported)."""
    raw = store.get_meta(TAG_COUNTS_META)
    if not raw:
        return {}
    try:
        table = json.loads(raw)
    except ValueError:
        raise ValidationError(f"store meta {TAG_COUNTS_META!r} is not JSON; re-run sensegraph import-kg wordnet") from None
    return {str(k): {str(s): int(n) for s, n in v.items()} for k, v in table.items()}


def _sense_id(s: str) -> str:
    """Accept ``n02012849`` or ``02012849``; anything else is a ``ValidationError``."""
    digits = s.strip().removeprefix("n")
    if not (digits.isdigit() and len(digits) == 8):
        raise ValidationError(
            f"{s!r} is not a WordNet noun synset id (expected n + 8 digits, e.g. n02012849)"
        )
    return "n" + digits


def _best_lemma(has_sense: list[HasSense], by_id: dict[str, Synset]) -> dict[str, str]:
    """Entity id -> the cased lemma of its best-ranked kept synset."""
    best: dict[str, tuple[int, str]] = {}
    for h in has_sense:
        if h.entity_id in best and best[h.entity_id][0] <= h.rank:
            continue
        for lemma in by_id[h.sense_id].lemmas:
            if entity_id(lemma) == h.entity_id:
                best[h.entity_id] = (h.rank, lemma)
                break
    return {eid: lemma for eid, (_, lemma) in best.items()}
