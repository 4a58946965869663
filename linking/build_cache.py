"""An on-disk cache of what the linker builds from the alias table: the ``Lexicon`` and its matchers.

Building both from ~150k aliases takes seconds (spaCy ``Doc`` per alias); unpickling them takes a
fraction of that. The file is keyed by a digest of the alias rows (any alias edit, import or
relabel changes it) and of the code and spaCy version that built it; a stale, foreign or corrupt
file is ignored and rebuilt, never an error. Writes are atomic (temp file + rename). It is a pickle,
so it lives in the store's own cache folder: whoever can write there can already write the store.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sensegraph.graph.model import AliasEntry

from .lexicon import EN, ZH, Lexicon
from .morphology import load_noun_exceptions

FORMAT = 1
FILE_NAME = "linker-{digest}.pickle"
_CODE = ("lexicon.py", "morphology.py", "detect.py", "build_cache.py")
_log = logging.getLogger(__name__)
stats = {"hits": 0, "misses": 0, "writes": 0}  # per process, for tests and diagnostics


def alias_digest(entries: Sequence[AliasEntry]) -> str:
    """A digest of the alias rows (order-free), the building code and spaCy's version."""
    import spacy

    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT}|{spacy.__version__}|{pickle.HIGHEST_PROTOCOL}".encode())
    here = Path(__file__).parent
    for name in _CODE:
        h.update((here / name).read_bytes())
    rows = sorted(f"{e.alias}\x1f{e.lang}\x1f{e.entity_id}\x1f{e.sense_id}\x1f{e.rank}" for e in entries)
    h.update("\x1e".join(rows).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def cache_path(cache_dir: Path, digest: str) -> Path:
    return Path(cache_dir) / FILE_NAME.format(digest=digest)


def save(cache_dir: Path, digest: str, lexicon: Lexicon, matchers: tuple[Any, Any, Any]) -> bool:
    """Write lexicon tables and ``(exact, lemma, zh)`` matchers atomically; False (logged) on failure."""
    state = {k: v for k, v in vars(lexicon).items() if k not in ("_nlp", "exceptions")}
    payload = {"format": FORMAT, "digest": digest, "lexicon": state, "matchers": matchers}
    target = cache_path(cache_dir, digest)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".linker-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in target.parent.glob(FILE_NAME.format(digest="*")):
            if old != target:
                old.unlink(missing_ok=True)  # a previous alias table's build
    except Exception as exc:  # a read-only or full disk costs speed, not the search
        _log.warning("linker cache not written to %s: %s", target, exc)
        return False
    stats["writes"] += 1
    return True


def load(cache_dir: Path, digest: str) -> tuple[Lexicon, tuple[Any, Any, Any]] | None:
    """The cached lexicon and matchers for ``digest``, or None when absent, stale or unreadable."""
    path = cache_path(cache_dir, digest)
    if not path.is_file():
        stats["misses"] += 1
        return None
    try:
        with open(path, "rb") as fh:
            payload = pickle.load(fh)
        if payload.get("format") != FORMAT or payload.get("digest") != digest:
            raise ValueError("built for another alias table")
        lexicon = Lexicon.__new__(Lexicon)
        lexicon.__dict__.update(payload["lexicon"])
        lexicon.exceptions = load_noun_exceptions()
        lexicon._nlp = {}
        exact, lemma, zh = payload["matchers"]
        _share_vocab(lexicon, EN, exact.vocab)
        if zh is not None:
            _share_vocab(lexicon, ZH, zh.vocab)
    except Exception as exc:  # corrupt, truncated, or from an incompatible version: rebuild
        _log.warning("linker cache %s ignored (%s); rebuilding", path, exc)
        stats["misses"] += 1
        return None
    stats["hits"] += 1
    return lexicon, (exact, lemma, zh)


def _share_vocab(lexicon: Lexicon, script: str, vocab: Any) -> None:
    """The lexicon's blank tokenizer on the matchers' vocab, as when they were built together."""
    import spacy

    lexicon._nlp[script] = spacy.blank(ZH if script == ZH else EN, vocab=vocab)
