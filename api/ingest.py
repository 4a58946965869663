"""Ingestion: records → media bytes → embeddings (cached) → linked evidence → graph → prototypes.

Resumable and idempotent: a medium is keyed by the SHA-256 of its content (one ``Media`` node per
content), every write is an upsert, and the prototypes of touched senses are recomputed from their
evidence unless an exact running-mean update is provably equivalent. Re-running an interrupted
ingest therefore converges to the graph a clean run gives.

An id names one file: a record whose ``id`` belongs to a medium with other bytes, or whose bytes are
stored under another id, is refused (skipped, naming the medium it collides with), never merged.
Skipped records carry a ``kind`` (``SKIP_HINTS`` says what to do about each).
"""
from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from sensegraph import fusion
from sensegraph.errors import MediaError, SenseGraphError, ValidationError, describe_errors
from sensegraph.graph.model import Evidence, Media
from sensegraph.jsonl import read_jsonl

from .prototype_updates import PrototypeUpdater
from .results import IngestReport, SkippedRecord

if TYPE_CHECKING:
    from .sensegraph import SenseGraph

MAX_TEXT_CHARS = 20_000
MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".mp4", ".webm", ".mov", ".avi", ".mkv"}
VIDEO_SUFFIXES = {".mp4", ".webm", ".mov", ".avi", ".mkv"}
AUDIO_SUFFIXES = {".wav", ".ogg", ".oga", ".flac", ".mp3", ".m4a", ".opus", ".aiff", ".au"}
MEDIA_SUFFIXES |= AUDIO_SUFFIXES


class IngestRecord(BaseModel):
    """One manifest entry: a medium, its optional caption and id; other keys are kept as metadata."""

    model_config = ConfigDict(extra="allow")

    media: str = Field(min_length=1)
    text: str | None = None
    id: str | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        if v is not None and len(v) > MAX_TEXT_CHARS:
            raise ValueError(f"text is {len(v)} characters; the limit is {MAX_TEXT_CHARS}")
        return v.strip() or None if v is not None else None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or any(ord(c) < 32 for c in v)):
            raise ValueError("id must be non-empty printable text")
        return v

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


# -- what a skipped record means -------------------------------------------------------------------
SKIP_HINTS: dict[str, str] = {
    "invalid_record": 'each record needs "media" (a path or URL); "text" and "id" are optional',
    "missing": "media paths are relative to the manifest's folder (absolute paths and http(s) URLs work too)",
    "outside_folder": "a relative media path must stay inside the manifest's folder; use an absolute path instead",
    "too_large": "the file is over the size limit (64 MB)",
    "fetch_failed": "the URL could not be downloaded; check it in a browser",
    "unreadable": "not a readable image, sound or video: check the file's format",
    "id_conflict": "an id names one file: give this file its own id, or leave \"id\" out",
    "duplicate": "this file is already stored under another id: use that id, or leave \"id\" out",
    "other": "see the reason",
}


def _load_kind(exc: SenseGraphError, rec: IngestRecord, base_dir: Path | None) -> str:
    """Why loading a record's bytes failed, as a ``SKIP_HINTS`` key."""
    from sensegraph.encoders.media import is_url

    text = str(exc)
    if "exceeds max_bytes" in text:
        return "too_large"
    if is_url(rec.media):
        return "fetch_failed"
    if "escapes the manifest folder" in text:
        return "outside_folder"
    try:
        if not resolve_media_path(rec.media, base_dir).exists():
            return "missing"
    except (SenseGraphError, OSError):
        return "outside_folder"
    return "unreadable"


# -- manifests -----------------------------------------------------------------------------------
class Manifest(Sized, Iterable[dict[str, Any]]):
    """A manifest's records: iterated lazily, counted cheaply (``len``) so a progress bar has its total."""

    def __init__(self, path: Path, read: Callable[[Path], Iterator[dict[str, Any]]], count: Callable[[Path], int]) -> None:
        self.path, self._read, self._count = path, read, count
        self._n: int | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._read(self.path)

    def __len__(self) -> int:
        if self._n is None:
            self._n = self._count(self.path)
        return self._n


def read_manifest(path: Path) -> tuple[Manifest, Path]:
    """Records from JSON Lines, CSV, or a folder of media with ``<name>.txt`` caption side-files.

    Relative media paths resolve against the manifest's folder (the second value returned).
    """
    if not path.exists():
        raise ValidationError(f"manifest {path} does not exist")
    if path.is_dir():
        return Manifest(path, _read_folder, lambda p: sum(1 for _ in _folder_media(p))), path
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return Manifest(path, _read_jsonl, _count_lines), path.parent
    if suffix == ".csv":
        return Manifest(path, _read_csv, _count_csv_rows), path.parent
    raise ValidationError(f"manifest {path}: expected .jsonl, .csv or a folder, got {suffix or 'no suffix'}")


def _count_lines(path: Path) -> int:
    """Non-blank lines, read as bytes in chunks (no JSON parsing): a million lines in well under a second."""
    n = 0
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                n += 1
    return n


def _count_csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return max(0, sum(1 for _ in csv.reader(fh)) - 1)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    for n, obj in read_jsonl(path, what="manifest"):
        obj.setdefault("_line", n)
        yield obj


def _read_csv(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "media" not in reader.fieldnames:
            raise ValidationError(f"{path}: CSV needs a 'media' column")
        for n, row in enumerate(reader, 2):
            yield {**{k: v for k, v in row.items() if k and v not in (None, "")}, "_line": n}


def _folder_media(path: Path) -> Iterator[Path]:
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.suffix.lower() in MEDIA_SUFFIXES:
            yield f


def _read_folder(path: Path) -> Iterator[dict[str, Any]]:
    for f in _folder_media(path):
        side = f.with_suffix(".txt")
        text = side.read_text(encoding="utf-8").strip() if side.exists() else None
        yield {"media": str(f.relative_to(path)), "text": text}


# -- media bytes -----------------------------------------------------------------------------------
@dataclass
class Loaded:
    record: IngestRecord
    ref: str
    uri: str
    data: bytes
    sha256: str
    modality: str


def resolve_media_path(ref: str, base_dir: Path | None) -> Path:
    """A local path; relative ones resolve against ``base_dir`` and must not escape it."""
    p = Path(ref).expanduser()
    if p.is_absolute() or base_dir is None:
        return p.resolve()
    root = base_dir.resolve()
    full = (root / p).resolve()
    if full != root and root not in full.parents:
        raise ValidationError(f"media path {ref!r} escapes the manifest folder {root}")
    return full


def load_bytes(rec: IngestRecord, base_dir: Path | None, max_bytes: int) -> tuple[str, bytes, str]:
    """(uri, content, sha256) for a record's medium: a local file (inside ``base_dir`` when relative) or an http(s) URL."""
    from sensegraph.encoders.media import MediaLimits, is_url, read_content

    limits = MediaLimits(max_bytes=max_bytes)
    if is_url(rec.media):
        content = read_content(rec.media, limits)
        return rec.media, content.data, content.sha256
    path = resolve_media_path(rec.media, base_dir)
    content = read_content(path, limits)
    return str(path), content.data, content.sha256


# -- the pipeline ----------------------------------------------------------------------------------
class Ingestor:
    """Runs records through embedding, linking and the store, batch by batch."""

    def __init__(self, sg: SenseGraph, max_bytes: int = 64_000_000) -> None:
        self.sg, self.store, self.cfg = sg, sg.store, sg.config
        self.max_bytes = max_bytes
        self.batch_size = self.cfg.encoder.batch_size  # records per encoder call and per linking batch
        self.updater = PrototypeUpdater(self.store, self.cfg.prototypes)
        self._known_senses: dict[str, bool] = {}
        self._touched: set[str] = set()  # senses this run wrote evidence for (the automatic propagation's seeds)

    def run(self, records: Iterable[Mapping[str, Any]], *, base_dir: Path | None = None, progress: bool = False) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        if not self._has_senses():
            report.warnings.append(
                f"the store ({self.store.describe()}) holds no senses, so no evidence can be written and search "
                f"cannot use senses; import a knowledge graph first: `sensegraph import-kg wordnet --store "
                f"{self.store.describe()}` (or `sg.import_kg(\"wordnet\")`)")
        from tqdm import tqdm

        total = len(records) if isinstance(records, Sized) else None
        bar = tqdm(disable=not progress, desc="ingest", unit="rec", total=total)
        batch: list[tuple[str, IngestRecord]] = []
        for n, raw in enumerate(records, 1):
            ref = f"line {raw.get('_line', n)}" if isinstance(raw, Mapping) else f"record {n}"
            try:
                rec = IngestRecord.model_validate({k: v for k, v in dict(raw).items() if k != "_line"})
            except (PydanticValidationError, TypeError, ValueError) as exc:
                report.skipped.append(SkippedRecord(ref=ref, reason=_short(exc), kind="invalid_record"))
                bar.update(1)
                continue
            batch.append((f"{ref}: {rec.media}", rec))
            if len(batch) >= self.batch_size:
                report = report.merge(self._batch(batch, base_dir))
                bar.update(len(batch))
                batch = []
        if batch:
            report = report.merge(self._batch(batch, base_dir))
            bar.update(len(batch))
        bar.close()
        if self._touched:  # not only when a prototype changed: a run killed before its update left the marker behind
            from .propagation import auto_propagate

            try:  # senses near the new evidence get a prototype now (propagation.auto)
                prop = auto_propagate(self.sg, touched=sorted(self._touched))
                report.propagated = prop.written if prop is not None else 0
            except SenseGraphError as exc:  # what was ingested stays; propagation can be run again by hand
                report.warnings.append(f"automatic propagation failed ({exc}); run `sensegraph propagate --changed`")
        report.seconds = time.perf_counter() - t0
        return report

    def _has_senses(self) -> bool:
        """Whether the store holds any sense (one row read, on either store)."""
        for batch in self.store.iter_senses(batch_size=1):
            return bool(batch)
        return False

    def _batch(self, batch: list[tuple[str, IngestRecord]], base_dir: Path | None) -> IngestReport:
        report = IngestReport()
        loaded: list[Loaded] = []
        for ref, rec in batch:
            try:
                uri, data, sha = load_bytes(rec, base_dir, self.max_bytes)
            except SenseGraphError as exc:
                report.skipped.append(SkippedRecord(ref=ref, reason=str(exc), kind=_load_kind(exc, rec, base_dir)))
                continue
            modality = _modality(self.sg.encoder, data, Path(uri.split("?")[0]).suffix.lower())
            loaded.append(Loaded(rec, ref, uri, data, sha, modality))
        items = self._claim_ids(loaded, report)
        if not items:
            return report
        self._refresh_linker()
        existing_of = {it.sha256: self.store.media_by_sha256(it.sha256) for it in items}
        stored_of = {it.sha256: self._stored_links(existing_of[it.sha256], it.record.text) for it in items}
        texts = list(dict.fromkeys(it.record.text for it in items if it.record.text and not stored_of[it.sha256]))
        # The captions are linked on a second thread while the media are encoded: the linker is mostly
        # single-threaded Python, and the encoder leaves part of the second core idle (bench/bench_ingest.py).
        linker = self.sg.linker if texts else None  # built here, not on the worker
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sensegraph-link") as pool:
            linking = pool.submit(linker.link_many, texts) if linker is not None else None
            embedded = self._embed(items, report)
            linked = dict(zip(texts, linking.result())) if linking is not None else {}
        if not embedded:
            return report
        media: list[Media] = []
        evidence: list[Evidence] = []
        to_link: list[tuple[str, str | None, list[tuple[str, float]]]] = []
        labels_of: dict[str, list[tuple[str, float]]] = {}
        for item, joint, native, labels in embedded:
            existing = existing_of[item.sha256]
            media_id = existing.media_id if existing is not None else _media_id(item)
            if existing is not None:
                report.already_present += 1
            else:
                report.ingested += 1
            media.append(Media(media_id, item.uri, item.modality, item.sha256, joint, native, item.record.text, item.record.metadata))
            labels_of[media_id] = labels
            stored = stored_of[item.sha256]
            if stored:
                evidence += stored
            else:
                to_link.append((media_id, item.record.text, labels))
        for media_id, text, labels in to_link:
            evidence += self._evidence(media_id, linked.get(text, []) if text else [], labels)
        media = self._fuse_captions(media, evidence, labels_of)
        self.store.upsert_media(media)
        before = {(e.media_id, e.sense_id) for m in media for e in self.store.evidence(media_id=m.media_id)}
        self.store.upsert_evidence(evidence)
        report.evidence_edges += len(evidence)
        report.evidence_gated += sum(e.source == "gated" for e in evidence)
        touched = {e.sense_id for e in evidence}
        self._touched |= touched
        added: dict[str, list[str]] = {}
        for e in evidence:
            if (e.media_id, e.sense_id) not in before:
                added.setdefault(e.sense_id, []).append(e.media_id)
        upd = self.updater.update(touched, added)
        report.senses_touched += len(touched)
        report.prototypes_created += upd.created
        report.prototypes_changed += upd.changed
        return report

    def _claim_ids(self, loaded: list[Loaded], report: IngestReport) -> list[Loaded]:
        """One Media node per content and one content per id, also within a batch.

        Same bytes under the same (or no) id: already present. Bytes stored under another id
        (``duplicate``) or an id that names other bytes (``id_conflict``) is skipped, naming the medium
        it collides with; nothing stored changes.
        """
        claimed: dict[str, tuple[str, Loaded]] = {}  # sha256 -> (media id, first record) in this batch
        owner: dict[str, Loaded] = {}  # media id -> the record that claimed it in this batch
        items: list[Loaded] = []
        for item in loaded:
            rid, sha = item.record.id, item.sha256
            if sha in claimed:
                mid, first = claimed[sha]
                if rid is None or rid == mid:
                    report.already_present += 1
                else:
                    report.skipped.append(SkippedRecord(ref=item.ref, kind="duplicate", reason=(
                        f"same bytes as medium {mid!r} ({first.ref}); not stored again as {rid!r}")))
                continue
            same = self.store.media_by_sha256(sha)
            mid = same.media_id if same is not None else _media_id(item)
            if rid is not None and rid != mid:
                report.skipped.append(SkippedRecord(ref=item.ref, kind="duplicate", reason=(
                    f"same bytes as stored medium {mid!r}; not stored again as {rid!r} and its caption is not "
                    f"added (ingest it with id {mid!r}, or without an id)")))
                continue
            if same is None:
                stored = self.store.get_media([mid], vectors=False).get(mid)
                if stored is not None and stored.sha256 != sha:
                    report.skipped.append(SkippedRecord(ref=item.ref, kind="id_conflict", reason=(
                        f"id {mid!r} already names a different file (sha256 {stored.sha256[:12] or '?'}…, caption "
                        f"{stored.caption!r}); the stored medium is kept unchanged")))
                    continue
                if mid in owner:
                    report.skipped.append(SkippedRecord(ref=item.ref, kind="id_conflict", reason=(
                        f"id {mid!r} is already given to a different file in this ingest ({owner[mid].ref})")))
                    continue
            claimed[sha] = (mid, item)
            owner[mid] = item
            items.append(item)
        return items

    def _embed(self, items: list[Loaded], report: IngestReport) -> list[tuple[Loaded, Any, Any, list]]:
        """Embed a batch; on a bad medium, fall back to one by one so the others still go in."""
        if not items:
            return []
        enc = self.sg.encoder
        try:
            emb = enc.embed_media([i.data for i in items])
            labels = emb.labels or [[] for _ in items]
            return [(it, emb.joint[j], emb.native[j], labels[j]) for j, it in enumerate(items)]
        except MediaError:
            pass
        out = []
        for it in items:
            try:
                emb = enc.embed_media([it.data])
            except MediaError as exc:
                report.skipped.append(SkippedRecord(ref=it.ref, reason=str(exc), kind="unreadable"))
                continue
            out.append((it, emb.joint[0], emb.native[0], (emb.labels or [[]])[0]))
        return out

    def _fuse_captions(self, media: list[Media], evidence: list[Evidence],
                       labels_of: dict[str, list[tuple[str, float]]]) -> list[Media]:
        """A store whose native space has a caption block: each captioned medium fused with its caption's
        text vector by the confidence gate (``fusion.fuse_caption``; the picture's from its top classes, the
        caption's from its linker edges, so a re-run with the same caption writes the same vectors)."""
        enc = self.sg.encoder
        blocks = getattr(enc, "native_blocks", None)
        todo = [i for i, m in enumerate(media) if m.caption and m.features is not None]
        if not fusion.has_block(blocks, fusion.CAPTION) or not todo:
            return media
        vectors = enc.embed_texts([media[i].caption for i in todo])
        links: dict[str, list[float]] = {}
        for e in evidence:
            if e.source in fusion.CAPTION_SOURCES:
                links.setdefault(e.media_id, []).append(e.confidence)
        classes = int(getattr(getattr(enc, "inner", enc), "image_classes", 1000))
        out = list(media)
        for i, vec in zip(todo, vectors):
            m = media[i]
            image_conf = fusion.top_labels_confidence(labels_of.get(m.media_id, []), classes)
            joint, native, _ = fusion.fuse_caption(m.embedding, m.features, vec, image_conf,
                                                   fusion.caption_confidence(links.get(m.media_id, [])), blocks)
            out[i] = replace(m, embedding=joint, features=native)
        return out

    def _refresh_linker(self) -> None:
        """Link each batch against the senses as stored now, not records cached batches ago (the prior is
        SemCor's fixed counts, so evidence written by earlier batches changes no link)."""
        linker = self.sg.built_part("linker")  # not built yet = nothing cached
        if linker is not None:
            linker.forget_senses()

    def _stored_links(self, existing: Media | None, text: str | None) -> list[Evidence]:
        """The linker/classifier edges of a medium already ingested with this caption, else [].

        Linking depends on the graph (a curator's aliases, senses and merges), so re-linking a medium a re-run has
        already seen would drift from what a clean run wrote; its stored links are kept instead.
        """
        if existing is None or existing.caption != text:
            return []
        return [e for e in self.store.evidence(media_id=existing.media_id) if e.source != "editor"]

    def _evidence(self, media_id: str, mentions: list[Any], labels: list[tuple[str, float]]) -> list[Evidence]:
        """Linker edges from the caption's linked mentions (per sense the best ungated one), then classifier edges.

        A link the gate (``ingest.evidence_gate``) finds unsure — low confidence or a minor word — is
        written as ``gated`` evidence: weak in prototypes (``prototypes.gated_weight``), kept for review.
        """
        gate = self.cfg.ingest.evidence_gate
        best: dict[str, Evidence] = {}
        for m in mentions:
            if m.sense_id is None:
                continue
            gated = gate.gates(m.confidence, getattr(m, "salience", 1.0))
            ev = Evidence(media_id, m.sense_id, float(m.confidence), "gated" if gated else "linker", False, m.text)
            old = best.get(m.sense_id)
            if old is None or _rank(ev) > _rank(old):
                best[m.sense_id] = ev
        pc = self.cfg.prototypes
        if pc.classifier_evidence and labels:
            top = labels[: pc.classifier_top]
            known = self.store.get_senses([sid for sid, _ in top])
            for sid, prob in top:
                if sid in known and sid not in best:
                    best[sid] = Evidence(media_id, sid, float(prob), "classifier")
        return list(best.values())


def _modality(encoder: Any, data: bytes, suffix: str) -> str:
    """image, audio or video: from the bytes when the encoder reads several kinds, else from the suffix."""
    if getattr(encoder, "decodes_bytes", False) or getattr(getattr(encoder, "inner", None), "decodes_bytes", False):
        from sensegraph.encoders.media import media_kind

        try:
            return media_kind(data)
        except SenseGraphError:
            pass  # the encoder names what is wrong when it embeds the medium
    return "video" if suffix in VIDEO_SUFFIXES else "audio" if suffix in AUDIO_SUFFIXES else "image"


def _rank(ev: Evidence) -> tuple[bool, float]:
    """Which of two links to one sense a medium keeps: an ungated one, then the more confident."""
    return ev.source != "gated", ev.confidence


def _media_id(item: Loaded) -> str:
    """The id a new medium gets: the record's, else one derived from its content."""
    return item.record.id or f"m{item.sha256[:16]}"


def _short(exc: Exception) -> str:
    if isinstance(exc, PydanticValidationError):
        return describe_errors(exc.errors(), default="record")
    return str(exc)
