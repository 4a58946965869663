"""An on-disk embedding cache: ``CachedEncoder(encoder, cache_dir)`` keyed by (encoder_id, sha256 of content).

Re-embedding the same bytes (a re-run ingest, the same photo under another name) costs a hash and
a SQLite lookup instead of a model call. Texts go to a ``TextCache`` keyed by the text model
(``encoders/text_cache.py``): ``text_cache_dir`` names the folder shared by every store on the
machine (``SenseGraph`` passes it), else texts are kept beside the media in ``cache_dir``.
One SQLite file per directory (WAL mode, so several processes may share it); vectors are stored as
float32 blobs next to the labels as JSON. The wrapper keeps the inner encoder's ``encoder_id``:
cached and fresh embeddings are the same numbers.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sensegraph.errors import ConfigError, MediaError
from sensegraph.limits import chunks

from .base import Encoder, MediaEmbedding, MediaInput
from .media import DEFAULT_LIMITS, MediaLimits, decode_image, describe, read_content
from .text_cache import TextCache, text_model_id

DB_NAME = "embeddings.sqlite"
MEDIA, TEXT = "media", "text"

SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    encoder_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    joint      BLOB NOT NULL,
    native     BLOB,
    labels     TEXT,
    PRIMARY KEY (encoder_id, kind, sha256)
)
"""
SELECT = "SELECT sha256, joint, native, labels FROM embeddings WHERE encoder_id = ? AND kind = ? AND sha256 IN ({})"
UPSERT = "INSERT OR REPLACE INTO embeddings (encoder_id, kind, sha256, joint, native, labels) VALUES (?, ?, ?, ?, ?, ?)"


@dataclass
class CacheStats:
    """Lookups answered from disk (``hits``) and items sent to the model (``misses``)."""

    hits: int = 0
    misses: int = 0


class CachedEncoder:
    """Wraps any ``Encoder``; same protocol, same ``encoder_id``, model calls only for unseen content."""

    def __init__(self, encoder: Encoder, cache_dir: str | Path, limits: MediaLimits = DEFAULT_LIMITS, *,
                 text_cache_dir: str | Path | None = None) -> None:
        self.inner = encoder
        self.encoder_id = encoder.encoder_id
        self.joint_dim = encoder.joint_dim
        self.native_dim = encoder.native_dim
        self.native_blocks = getattr(encoder, "native_blocks", None)  # modality blocks of the native space
        self.limits = limits
        self.stats = CacheStats()
        self.path = Path(cache_dir) / DB_NAME
        self._lock = threading.Lock()
        self._db = _connect(self.path)
        self.texts = TextCache(text_cache_dir if text_cache_dir is not None else cache_dir, text_model_id(encoder),
                               dim=encoder.joint_dim)

    # -- the Encoder protocol ---------------------------------------------------------------------

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Like the inner encoder's; texts seen before (by any store using the same text cache) come from disk."""
        texts = list(texts)
        if any(not isinstance(t, str) for t in texts):
            return self.inner.embed_texts(texts)  # let the inner encoder name the bad item
        before = self.texts.stats.misses
        out = self.texts.embed(texts, self.inner.embed_texts)
        self._count(len(texts), self.texts.stats.misses - before)
        return out.reshape(len(texts), self.joint_dim)

    def embed_media(self, media: Sequence[MediaInput]) -> MediaEmbedding:
        """Hash each medium's bytes; decode and embed only those not cached for this encoder."""
        contents = []
        for i, item in enumerate(media):
            try:
                contents.append(read_content(item, self.limits))
            except MediaError as exc:
                raise MediaError(f"medium #{i} ({describe(item)[:200]}): {exc}") from exc
        keys = [c.sha256 for c in contents]
        found = self._get(MEDIA, keys)
        missing = _unique([k for k in keys if k not in found])
        if missing:
            by_key = {c.sha256: c for c in contents}
            images = []
            raw = getattr(self.inner, "decodes_bytes", False)  # audio/multimodal encoders tell kinds apart themselves
            for key in missing:
                content = by_key[key]
                try:
                    images.append(content.data if raw else decode_image(content.data, self.limits, origin=content.origin))
                except MediaError as exc:
                    raise MediaError(f"medium #{keys.index(key)}: {exc}") from exc
            fresh = self.inner.embed_media(images)
            labels = fresh.labels or [[] for _ in missing]
            rows = [(k, fresh.joint[i], fresh.native[i], labels[i]) for i, k in enumerate(missing)]
            self._put(MEDIA, rows)
            found.update({k: (j, n, lab) for k, j, n, lab in rows})
        self._count(len(keys), len(missing))
        joint = np.zeros((len(keys), self.joint_dim), dtype=np.float32)
        native = np.zeros((len(keys), self.native_dim), dtype=np.float32)
        labels_out: list[list[tuple[str, float]]] = []
        for i, key in enumerate(keys):
            joint[i], native[i], lab = found[key]
            labels_out.append([(str(s), float(p)) for s, p in (lab or [])])
        return MediaEmbedding(joint=joint, native=native, labels=labels_out)

    # -- storage ----------------------------------------------------------------------------------

    def _get(self, kind: str, keys: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray | None, Any]]:
        """Cached rows for ``keys`` (in chunks, SQLite caps the number of parameters)."""
        found: dict[str, tuple[np.ndarray, np.ndarray | None, Any]] = {}
        unique = _unique(keys)
        with self._lock:
            for chunk in chunks(unique):  # CHUNK_ROWS ids per statement
                sql = SELECT.format(",".join("?" * len(chunk)))
                for sha, joint, native, labels in self._db.execute(sql, (self.encoder_id, kind, *chunk)):
                    row = self._decode(joint, native, labels, kind)
                    if row is not None:
                        found[sha] = row
        return found

    def _decode(self, joint: bytes, native: bytes | None, labels: str | None, kind: str) -> Any:
        """Vectors from blobs; a row with the wrong size (a changed encoder) counts as a miss."""
        j = np.frombuffer(joint, dtype=np.float32)
        if j.size != self.joint_dim:
            return None
        if kind == TEXT:
            return j, None, None
        n = np.frombuffer(native or b"", dtype=np.float32)
        if n.size != self.native_dim:
            return None
        return j, n, json.loads(labels) if labels else []

    def _put(self, kind: str, rows: list[tuple[str, np.ndarray, np.ndarray | None, Any]]) -> None:
        """Insert or replace rows in one transaction."""
        params = [
            (
                self.encoder_id,
                kind,
                key,
                np.asarray(joint, dtype=np.float32).tobytes(),
                None if native is None else np.asarray(native, dtype=np.float32).tobytes(),
                None if labels is None else json.dumps([[s, float(p)] for s, p in labels]),
            )
            for key, joint, native, labels in rows
        ]
        with self._lock, self._db:
            self._db.executemany(UPSERT, params)

    def _count(self, total: int, misses: int) -> None:
        with self._lock:
            self.stats.hits += total - misses
            self.stats.misses += misses

    def close(self) -> None:
        """Close the SQLite connection."""
        with self._lock:
            self._db.close()
        self.texts.close()

    def __repr__(self) -> str:
        return f"CachedEncoder({self.inner!r}, {str(self.path.parent)!r})"


def _connect(path: Path) -> sqlite3.Connection:
    """Open (creating) the cache database; a file that is not one gives a ``ConfigError``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(SCHEMA)
        db.commit()
    except (sqlite3.DatabaseError, OSError) as exc:
        raise ConfigError(f"embedding cache {path} cannot be opened ({exc}); delete it or choose another cache_dir") from exc
    return db


def _unique(items: list[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
