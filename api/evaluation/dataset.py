"""The eval-set format: ``media.jsonl`` + ``queries.jsonl``, media references resolved from installed packages.

A medium's ``media`` field names where its file lives, never a copy:

* ``deb:openclipart-png:<path under /usr/share/openclipart/png>`` (Debian package ``openclipart-png``)
* ``pkg:skimage:<file in skimage/data>`` (PyPI ``scikit-image``)
* ``pkg:sklearn:<file in sklearn/datasets/images>`` (PyPI ``scikit-learn``)
* a plain path, relative to the eval-set folder.

Pure apart from reading files: loading validates every line and names the file and line when wrong.
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sensegraph.errors import SenseGraphError, ValidationError
from sensegraph.jsonl import read_jsonl

KINDS = ("plain", "ambiguous", "ambiguous_context")
SPLITS = ("dev", "test")
SENSE_RE = re.compile(r"^n\d{8}$")

#: Debian package -> (root folder, env override)
DEB_ROOTS = {"openclipart-png": ("/usr/share/openclipart/png", "SENSEGRAPH_OPENCLIPART_DIR")}
#: PyPI scheme -> (import name, pip name, data folder inside the package)
PKG_ROOTS = {
    "skimage": ("skimage", "scikit-image", ("data",)),
    "sklearn": ("sklearn", "scikit-learn", ("datasets", "images")),
}


class EvalDataMissing(SenseGraphError):
    """A medium's package (or the file inside it) is not installed; the message says what to install."""


@dataclass(frozen=True)
class EvalMedium:
    id: str
    media: str
    caption: str
    senses: tuple[str, ...]


@dataclass(frozen=True)
class EvalQuery:
    id: str
    text: str
    kind: str
    gold: tuple[str, ...]
    split: str
    target_senses: tuple[str, ...] = ()
    lang: str = "en"
    twin: str = ""  # the English query a translated one was written from


#: optional query files in other languages beside ``queries.jsonl``: file → language tag
QUERY_FILES = {"queries.jsonl": "en", "queries.zh.jsonl": "zh"}


@dataclass
class EvalSet:
    """Media and queries of one eval set, with the folder they came from (for relative paths)."""

    name: str
    root: Path
    media: list[EvalMedium]
    queries: list[EvalQuery]
    by_id: dict[str, EvalMedium] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {m.id: m for m in self.media}

    def select(self, split: str | None = None, kinds: Iterable[str] | None = None,
               ids: Iterable[str] | None = None, limit: int | None = None) -> list[EvalQuery]:
        """Queries of one split / kinds / id subset, in file order, at most ``limit``."""
        if split is not None and split not in SPLITS:
            raise ValidationError(f"split must be one of {SPLITS}, got {split!r}")
        wanted = set(kinds) if kinds else None
        only = set(ids) if ids is not None else None
        out = [q for q in self.queries
               if (split is None or q.split == split) and (wanted is None or q.kind in wanted)
               and (only is None or q.id in only)]
        return out[:limit] if limit else out


def _split_ref(ref: str, shape: str, known: dict, what: str) -> tuple[str, str]:
    """``scheme:KEY:REST`` → (KEY, REST), KEY one of ``known``; errors show ``shape`` or the known keys."""
    try:
        _, key, rel = ref.split(":", 2)
    except ValueError:
        raise ValidationError(f"media reference {ref!r} must look like {shape}") from None
    if key not in known:
        raise ValidationError(f"unknown {what} {key!r} in {ref!r}; known: {sorted(known)}")
    return key, rel


def resolve_media(ref: str, root: Path | None = None) -> Path:
    """The installed file a media reference points to; ``EvalDataMissing`` names the package to install."""
    if ref.startswith("deb:"):
        pkg, rel = _split_ref(ref, "deb:<package>:<path>", DEB_ROOTS, "Debian media package")
        default, env = DEB_ROOTS[pkg]
        base = Path(os.environ.get(env) or default)
        if not base.is_dir():
            raise EvalDataMissing(f"{ref}: Debian package {pkg!r} is not installed (apt-get install {pkg}, "
                                  f"or point ${env} at its folder)")
        path = base / rel
    elif ref.startswith("pkg:"):
        scheme, rel = _split_ref(ref, "pkg:<package>:<file>", PKG_ROOTS, "package scheme")
        module, pip_name, sub = PKG_ROOTS[scheme]
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise EvalDataMissing(f"{ref}: Python package {pip_name!r} is not installed (pip install {pip_name})")
        path = Path(list(spec.submodule_search_locations)[0]).joinpath(*sub, rel)
    else:
        path = Path(ref) if Path(ref).is_absolute() or root is None else root / ref
    if ".." in Path(ref.split(":")[-1]).parts:
        raise ValidationError(f"media reference {ref!r} must not climb out of its package folder")
    if not path.is_file():
        raise EvalDataMissing(f"{ref}: file {path} not found (is the package complete and current?)")
    return path


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise ValidationError(f"{path}: file not found")
    return list(read_jsonl(path, what="eval-set file"))


def _str(row: dict, key: str, where: str) -> str:
    v = row.get(key)
    if not isinstance(v, str) or not v.strip():
        raise ValidationError(f"{where}: {key!r} must be a non-empty string")
    return v


def _str_list(row: dict, key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
    v = row.get(key, None if required else [])
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v) or (required and not v):
        raise ValidationError(f"{where}: {key!r} must be a {'non-empty ' if required else ''}list of strings")
    return tuple(v)


def _senses(values: tuple[str, ...], where: str) -> tuple[str, ...]:
    for s in values:
        if not SENSE_RE.match(s):
            raise ValidationError(f"{where}: sense {s!r} is not a WordNet noun id like n02012849")
    return values


def load_evalset(folder: str | os.PathLike[str]) -> EvalSet:
    """Read and cross-check ``media.jsonl`` and ``queries.jsonl`` in ``folder`` (plus ``queries.zh.jsonl``,
    Chinese queries written from English twins, when present)."""
    root = Path(folder)
    if not root.is_dir():
        raise ValidationError(f"eval set {str(root)!r} is not a folder with media.jsonl and queries.jsonl")
    media: list[EvalMedium] = []
    seen: set[str] = set()
    for n, row in _read_jsonl(root / "media.jsonl"):
        where = f"{root / 'media.jsonl'}:{n}"
        mid = _str(row, "id", where)
        if mid in seen:
            raise ValidationError(f"{where}: duplicate medium id {mid!r}")
        seen.add(mid)
        media.append(EvalMedium(mid, _str(row, "media", where), _str(row, "caption", where),
                                _senses(_str_list(row, "senses", where), where)))
    queries: list[EvalQuery] = []
    qseen: set[str] = set()
    rows = [(name, lang, n, row) for name, lang in QUERY_FILES.items()
            if name == "queries.jsonl" or (root / name).is_file() for n, row in _read_jsonl(root / name)]
    for name, lang, n, row in rows:
        where = f"{root / name}:{n}"
        qid = _str(row, "id", where)
        if qid in qseen:
            raise ValidationError(f"{where}: duplicate query id {qid!r}")
        qseen.add(qid)
        kind, split = _str(row, "kind", where), _str(row, "split", where)
        if kind not in KINDS:
            raise ValidationError(f"{where}: kind {kind!r} is not one of {KINDS}")
        if split not in SPLITS:
            raise ValidationError(f"{where}: split {split!r} is not one of {SPLITS}")
        gold = _str_list(row, "gold", where)
        missing = [g for g in gold if g not in seen]
        if missing:
            raise ValidationError(f"{where}: gold ids {missing} are not in media.jsonl")
        if row.get("lang", lang) != lang:
            raise ValidationError(f"{where}: lang {row.get('lang')!r} does not match the file's language {lang!r}")
        twin = row.get("twin", "")
        if twin and twin not in qseen:
            raise ValidationError(f"{where}: twin {twin!r} is not a query of queries.jsonl")
        queries.append(EvalQuery(qid, _str(row, "text", where), kind, gold, split,
                                 _senses(_str_list(row, "target_senses", where, required=False), where),
                                 lang, twin))
    if not media or not queries:
        raise ValidationError(f"eval set {str(root)!r} has no media or no queries")
    return EvalSet(root.name, root, media, queries)


def _order_key(media_id: str) -> str:
    return hashlib.sha1(media_id.encode("utf-8")).hexdigest()


def cold_partition(media: Iterable[EvalMedium]) -> tuple[list[str], list[str]]:
    """Split media into (captioned evidence, uncaptioned gallery), deterministically, per primary sense.

    Media are grouped by their first sense and ordered by SHA-1 of their id; the first ceil(n/2) of each
    group keep their caption, the rest are ingested without text. A sense with one medium keeps it
    captioned, so every sense has evidence.
    """
    groups: dict[str, list[str]] = {}
    for m in media:
        groups.setdefault(m.senses[0], []).append(m.id)
    captioned: list[str] = []
    gallery: list[str] = []
    for ids in groups.values():
        ids = sorted(ids, key=_order_key)
        cut = math.ceil(len(ids) / 2)
        captioned += ids[:cut]
        gallery += ids[cut:]
    return sorted(captioned), sorted(gallery)
