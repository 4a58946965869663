"""The sense structure of a store, cached under its structure revision: in process, and on disk for a local store.

A store's ``structure_revision`` changes with every write to senses or relations, so a structure kept
under (store, revision) is never stale: an ingest (media and evidence only) keeps hitting it, an import,
a merge or an undo misses once. The revision is read before the columns; when it moved while they were
read, the result is used once and not kept. The disk copy (``DIR/sense-structure.npz``) serves later
processes, e.g. each ``sensegraph ingest`` of the CLI; it is written atomically and is ignored unless
it names the store's current revision.
"""
from __future__ import annotations

import json
import os
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from sensegraph.graph.base import GraphStore

from .structure import SenseStructure, from_columns

FILE = "sense-structure.npz"
FORMAT = 1


class StructureCache:
    """Structures by (store, revision), at most ``size`` in process; ``last`` says where the latest came
    from: ``"memory"``, ``"disk"`` or ``"store"`` (read and built)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self.last = ""
        self._held: OrderedDict[tuple[str, str], SenseStructure] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: GraphStore, *, use_disk: bool = True) -> SenseStructure:
        """The structure of ``store`` as it is now."""
        revision = store.structure_revision()
        key = (store.describe(), revision)
        with self._lock:
            if key in self._held:
                self._held.move_to_end(key)
                self.last = "memory"
                return self._held[key]
        path = store.local_dir / FILE if use_disk and store.local_dir is not None else None
        found = load(path, revision) if path is not None else None
        self.last = "disk" if found is not None else "store"
        if found is None:
            live, relations = store.sense_structure()
            found = from_columns(revision, live, relations)
            if store.structure_revision() != revision:
                return found  # written meanwhile: this read may mix two states, so it is not kept
            if path is not None:
                save(path, found)
        with self._lock:
            self._held[key] = found
            while len(self._held) > self.size:
                self._held.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


STRUCTURES = StructureCache()  # the process's cache, shared by every propagation run


def save(path: Path, structure: SenseStructure) -> None:
    """Write ``structure`` to ``path`` atomically; a store directory that cannot be written is skipped."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
    head = json.dumps({"format": FORMAT, "revision": structure.revision, "types": structure.types})
    try:
        np.savez(tmp, head=np.frombuffer(head.encode("utf-8"), dtype=np.uint8),
                 ids=np.frombuffer(json.dumps(structure.ids).encode("utf-8"), dtype=np.uint8),
                 src=structure.src, dst=structure.dst, typ=structure.typ)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def load(path: Path, revision: str) -> SenseStructure | None:
    """The structure saved at ``path`` if it is of ``revision`` (and readable), else None."""
    try:
        with np.load(path, allow_pickle=False) as z:
            head = json.loads(z["head"].tobytes().decode("utf-8"))
            if head.get("format") != FORMAT or head.get("revision") != revision:
                return None
            ids = json.loads(z["ids"].tobytes().decode("utf-8"))
            src, dst, typ = (np.asarray(z[k], dtype=np.int32) for k in ("src", "dst", "typ"))
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):  # missing, truncated or not ours: read the store instead
        return None
    types = list(head.get("types", []))
    if not (src.shape == dst.shape == typ.shape) or (src.size and (
            min(int(src.min()), int(dst.min()), int(typ.min())) < 0
            or max(int(src.max()), int(dst.max())) >= len(ids) or int(typ.max()) >= len(types))):
        return None
    return SenseStructure(revision, ids, types, src, dst, typ)
