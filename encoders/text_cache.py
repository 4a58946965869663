"""One text-embedding cache for every store on the machine, keyed by (text model id, SHA-256 of the text).

Sense texts and glosses are the same strings in every store that imported WordNet, so their
embeddings are computed once per machine, not once per store: the linker's sense texts and context
windows (through ``CachedEncoder.embed_texts``) and ``propagate``'s glosses all read and fill it.

Where: ``encoder.text_cache_dir`` in the configuration, else ``$SENSEGRAPH_TEXT_CACHE_DIR``, else
``$SENSEGRAPH_CACHE_DIR``, else ``$XDG_CACHE_HOME/sensegraph`` (``~/.cache/sensegraph``); one SQLite
file, ``texts.sqlite``. Several processes may read and write it at once (WAL, a busy timeout, one
transaction per batch of rows). Every row carries a checksum of its key and vector: a row that fails
it, has the wrong size or holds a non-finite number is a miss, re-embedded and replaced, never
returned. A file that is not a database is moved aside and a new one started; when the folder cannot
be written, embeddings are still returned, only not kept.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensegraph.limits import CHUNK_ROWS
from sensegraph.progress import Progress, progress_for

from .text import check_texts

DB_NAME = "texts.sqlite"
DIR_ENV = "SENSEGRAPH_TEXT_CACHE_DIR"
SQL_CHUNK = CHUNK_ROWS  # SQLite caps bound parameters per statement (sensegraph.limits)
EMBED_CHUNK = 256  # texts per model call: the progress bar moves and each chunk is saved as it is done

SCHEMA = """
CREATE TABLE IF NOT EXISTS texts (
    model_id TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    vector   BLOB NOT NULL,
    checksum TEXT NOT NULL,
    PRIMARY KEY (model_id, sha256)
) WITHOUT ROWID
"""
SELECT = "SELECT sha256, vector, checksum FROM texts WHERE model_id = ? AND sha256 IN ({})"
UPSERT = "INSERT OR REPLACE INTO texts (model_id, sha256, vector, checksum) VALUES (?, ?, ?, ?)"
_log = logging.getLogger(__name__)


def text_cache_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """The shared cache folder: configured, else $SENSEGRAPH_TEXT_CACHE_DIR, $SENSEGRAPH_CACHE_DIR, $XDG_CACHE_HOME/sensegraph."""
    for value in (configured, os.environ.get(DIR_ENV), os.environ.get("SENSEGRAPH_CACHE_DIR")):
        if value:
            return Path(value).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sensegraph"


def text_model_id(encoder: object) -> str:
    """The id of the model behind ``encoder.embed_texts`` (ConSE's MiniLM, else the encoder itself)."""
    explicit = getattr(encoder, "text_model_id", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    inner = getattr(getattr(encoder, "text", None), "encoder_id", None)
    return inner if isinstance(inner, str) and inner else str(getattr(encoder, "encoder_id"))


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def checksum(key: str, blob: bytes) -> str:
    """Binds a vector to its key: a torn, flipped or misplaced row fails it."""
    return hashlib.blake2b(key.encode("ascii") + blob, digest_size=8).hexdigest()


@dataclass
class TextCacheStats:
    """Texts answered from disk (``hits``), sent to the model (``misses``), bad rows replaced (``rebuilt``)."""

    hits: int = 0
    misses: int = 0
    rebuilt: int = 0


class TextCache:
    """Embeddings of one text model, shared through one SQLite file; ``embed`` calls the model only for unseen texts."""

    def __init__(self, directory: str | os.PathLike[str], model_id: str, dim: int | None = None) -> None:
        self.path = Path(directory) / DB_NAME
        self.model_id = model_id
        self.dim = dim
        self.stats = TextCacheStats()
        self._lock = threading.Lock()
        self._db = _open(self.path)

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Trusted vectors for those ``keys`` that have one; bad rows count as ``rebuilt`` and are left out."""
        found: dict[str, np.ndarray] = {}
        if self._db is None:
            return found
        unique = list(dict.fromkeys(keys))
        try:
            with self._lock:
                for start in range(0, len(unique), SQL_CHUNK):
                    chunk = unique[start : start + SQL_CHUNK]
                    for key, blob, check in self._db.execute(SELECT.format(",".join("?" * len(chunk))), (self.model_id, *chunk)):
                        vec = self._trusted(key, blob, check)
                        if vec is None:
                            self.stats.rebuilt += 1
                        else:
                            found[key] = vec
        except sqlite3.DatabaseError as exc:  # corrupted under us: what was read stays, the rest is a miss
            _log.warning("text cache %s unreadable (%s); embedding without it", self.path, exc)
        return found

    def put(self, rows: Sequence[tuple[str, np.ndarray]]) -> bool:
        """Store ``(key, vector)`` rows in one transaction; False (logged) when the file cannot take them."""
        if self._db is None or not rows:
            return False
        params = []
        for key, vec in rows:
            blob = np.ascontiguousarray(vec, dtype=np.float32).tobytes()
            params.append((self.model_id, key, blob, checksum(key, blob)))
        try:
            with self._lock, self._db:
                self._db.executemany(UPSERT, params)
        except sqlite3.Error as exc:  # locked past the timeout, read-only or full disk: speed lost, not results
            _log.warning("text cache %s not written (%s)", self.path, exc)
            return False
        return True

    def embed(self, texts: Sequence[str], embed_fn: Callable[[list[str]], np.ndarray], *,
              progress: bool | Progress = False, phase: str = "gloss embedding") -> np.ndarray:
        """(n, d) vectors for ``texts``: cached ones from disk, the rest through ``embed_fn`` in chunks, each saved."""
        texts = list(texts)
        keys = [text_key(t) for t in texts]
        found = self.get(keys)
        todo = {k: t for k, t in zip(keys, texts) if k not in found}
        missing = sorted(todo.items(), key=lambda kv: len(kv[1]))  # similar lengths pad less
        if missing:
            with progress_for(progress).phase(phase, total=len(missing), unit="texts") as step:
                for start in range(0, len(missing), EMBED_CHUNK):
                    chunk = missing[start : start + EMBED_CHUNK]
                    vecs = np.asarray(embed_fn([t for _, t in chunk]), dtype=np.float32)
                    if vecs.ndim != 2 or vecs.shape[0] != len(chunk):
                        raise ValueError(f"text model returned shape {vecs.shape} for {len(chunk)} texts")
                    rows = list(zip((k for k, _ in chunk), vecs))
                    self.put(rows)
                    found.update(rows)
                    step(len(chunk))
        self.stats.hits += len(keys) - len(missing)
        self.stats.misses += len(missing)
        if not keys:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _trusted(self, key: str, blob: bytes, check: str) -> np.ndarray | None:
        if not isinstance(blob, bytes) or len(blob) % 4 or checksum(key, blob) != check:
            return None
        vec = np.frombuffer(blob, dtype=np.float32)
        if (self.dim is not None and vec.size != self.dim) or vec.size == 0 or not np.isfinite(vec).all():
            return None
        return vec

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __repr__(self) -> str:
        return f"TextCache({str(self.path)!r}, {self.model_id!r})"


class CachedTextModel:
    """A text model's ``embed_texts`` behind the shared ``TextCache`` under the model's own id (callable).

    The linker's context model (``linker.context_model``) is wrapped in one, so its 768-d mpnet vectors
    and the joint space's MiniLM vectors of the same sense text are separate rows, never confused.
    """

    def __init__(self, model: object, directory: str | os.PathLike[str]) -> None:
        self.model = model
        self.text_model_id = text_model_id(model)
        dim = getattr(model, "dim", None)
        self.cache = TextCache(directory, self.text_model_id, dim if isinstance(dim, int) else None)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.cache.embed(check_texts(texts), self.model.embed_texts)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"CachedTextModel({self.text_model_id!r}, {self.cache.path})"


def _open(path: Path) -> sqlite3.Connection | None:
    """The cache database; a file that is not one is moved aside and replaced; None when nothing can be written."""
    for attempt in range(2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
            db.execute("SELECT 1 FROM texts LIMIT 1").fetchall()
            db.isolation_level = ""  # back to implicit transactions: ``with db`` commits a batch at once
            return db
        except sqlite3.DatabaseError as exc:
            if attempt or not path.is_file():
                _log.warning("text cache %s cannot be used (%s); embedding without it", path, exc)
                return None
            aside = path.with_name(f"{path.name}.corrupt-{os.getpid()}-{int(time.time())}")
            _log.warning("text cache %s is not a database (%s); moved to %s and started anew", path, exc, aside)
            try:
                os.replace(path, aside)
                for suffix in ("-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
            except OSError:
                return None
        except OSError as exc:
            _log.warning("text cache folder %s cannot be used (%s); embedding without it", path.parent, exc)
            return None
    return None
