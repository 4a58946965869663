"""Media at the REST edge: what an upload really is, where it is kept, how it is served and shown.

The format always comes from decoding the bytes (Pillow for images, PyAV's container probe for
video), never from the client's filename: an upload is stored as ``<sha256><decoded extension>``,
served with the decoded format's content type, ``nosniff`` and a sandboxing CSP, and anything that
is not an image is sent as an attachment. API results show media paths relative to the store or the
upload folder, never the server's absolute paths.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ValidationError

if TYPE_CHECKING:
    from .sensegraph import SenseGraph

IMAGE_FORMATS = {"PNG": (".png", "image/png"), "JPEG": (".jpg", "image/jpeg"), "GIF": (".gif", "image/gif"),
                 "BMP": (".bmp", "image/bmp"), "WEBP": (".webp", "image/webp"), "TIFF": (".tif", "image/tiff")}
VIDEO_CONTAINERS = {"mov": (".mp4", "video/mp4"), "mp4": (".mp4", "video/mp4"), "matroska": (".mkv", "video/x-matroska"),
                    "webm": (".webm", "video/webm"), "avi": (".avi", "video/x-msvideo")}
AUDIO_CONTAINERS = {"wav": (".wav", "audio/wav"), "mov": (".m4a", "audio/mp4"), "ogg": (".ogg", "audio/ogg"), "flac": (".flac", "audio/flac"),
                    "mp3": (".mp3", "audio/mpeg")}
ACCEPTED = "PNG, JPEG, GIF, BMP, WebP, TIFF images, MP4/MOV, MKV/WebM, AVI video or WAV, Ogg, FLAC, MP3 audio"
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
OCTET = "application/octet-stream"


@dataclass(frozen=True)
class Sniffed:
    """What decoding the bytes says a medium is."""

    extension: str
    content_type: str
    is_image: bool


def _image_format(data: bytes) -> str | None:
    """Pillow's name for the image format of ``data`` (the header is enough), or None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.format or None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _from_image(fmt: str | None) -> Sniffed | None:
    if fmt not in IMAGE_FORMATS:
        return None
    ext, ctype = IMAGE_FORMATS[fmt]
    return Sniffed(ext, ctype, True)


def sniff(data: bytes) -> Sniffed | None:
    """The decoded format of ``data`` (image header via Pillow, else a video container via PyAV), or None."""
    fmt = _image_format(data)
    return _from_image(fmt) if fmt is not None else _sniff_av(data)


def _sniff_av(data: bytes) -> Sniffed | None:
    """A video (a video stream in a ``VIDEO_CONTAINERS`` format), else a sound (an audio stream in an
    ``AUDIO_CONTAINERS`` format) that PyAV opens, or None; the bytes are opened once for both."""
    try:
        import av
    except ImportError:
        return None
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            tables = [t for t, streams in ((VIDEO_CONTAINERS, container.streams.video),
                                           (AUDIO_CONTAINERS, container.streams.audio)) if streams]
            names = container.format.name.split(",")
    except Exception:  # noqa: BLE001 - PyAV raises many FFmpeg error types for bytes that are not media
        return None
    for table in tables:  # a video's format first: an mp4 with sound is a video, an mp3 with cover art a sound
        for name in names:
            if name in table:
                ext, ctype = table[name]
                return Sniffed(ext, ctype, False)
    return None


def sniff_file(path: Path) -> Sniffed | None:
    """``sniff`` of a stored file: an image by its header, a video by reading the whole file."""
    try:
        with open(path, "rb") as fh:
            fmt = _image_format(fh.read(256 * 1024))
            if fmt is not None:
                return _from_image(fmt)
            fh.seek(0)
            data = fh.read()
            return _sniff_av(data)
    except OSError:
        return None


def content_headers(media_id: str, kind: Sniffed | None) -> tuple[str, dict[str, str]]:
    """(content type, headers) for ``/media/{id}/content``: decoded type, nosniff, sandbox CSP, attachment unless an image."""
    ctype = kind.content_type if kind else OCTET
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": MEDIA_CSP}
    if kind is None or not kind.is_image:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in media_id)[:100] or "medium"
        headers["Content-Disposition"] = f'attachment; filename="{safe}{kind.extension if kind else ".bin"}"'
    else:
        headers["Content-Disposition"] = "inline"
    return ctype, headers


def upload_dir(sg: SenseGraph) -> Path:
    """Where uploaded media are kept: beside an embedded store, else the user's cache."""
    return sg.cache_dir.parent / "uploads"


@dataclass(frozen=True)
class Upload:
    """A decoded, checked upload not yet on disk."""

    data: bytes
    sha256: str
    kind: Sniffed
    filename: str


def decode_upload(data_b64: str, filename: str) -> Upload:
    """Base64 → bytes → decoded format; ``ValidationError`` naming the client's filename, never a server path."""
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"record {filename!r}: data is not valid base64") from None
    return check_upload(data, filename)


def check_upload(data: bytes, filename: str) -> Upload:
    """Uploaded bytes with their decoded format (REST and editor uploads alike); ``ValidationError`` otherwise."""
    if not data:
        raise ValidationError(f"record {filename!r}: data is empty")
    kind = sniff(data)
    if kind is None:
        raise ValidationError(f"record {filename!r}: not a medium this service accepts ({ACCEPTED})")
    return Upload(data, hashlib.sha256(data).hexdigest(), kind, filename)


def store_upload(sg: SenseGraph, up: Upload) -> tuple[Path, bool]:
    """Write ``up`` as ``<sha256><decoded extension>`` in the upload folder; (path, whether this call created it)."""
    target = upload_dir(sg) / f"{up.sha256}{up.kind.extension}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return target, False
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{id(up)}.part")
    tmp.write_bytes(up.data)
    tmp.replace(target)
    return target, True


def public_uri(sg: SenseGraph, uri: str | None) -> str | None:
    """``uri`` as an API result shows it: URLs unchanged, local paths relative to the upload folder or
    the store (``uploads/<name>``, ``media/x.png``), other local files by their name only."""
    if not uri or "://" in uri:
        return uri
    path = Path(uri)
    if not path.is_absolute():
        return uri
    roots = [upload_dir(sg).parent]
    store_dir = getattr(sg.store, "directory", None)
    if store_dir is not None:
        roots.append(Path(store_dir))
    for root in roots:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name


def scrub(text: str, paths: dict[str, str]) -> str:
    """``text`` with each server path in ``paths`` replaced by its public name (for error reasons)."""
    for server, shown in sorted(paths.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(server, shown)
    return text


def ingest_uploads(sg: SenseGraph, items: list[tuple[Upload, str | None, str | None]]) -> dict:
    """Store ``(upload, caption, id)`` items, ingest them, and delete every file this call created that did
    not become a medium (refused records leave nothing on disk); the report's reasons name the client's
    filenames, never a server path."""
    created: list[tuple[Path, str]] = []
    shown: dict[str, str] = {}
    try:
        rows = []
        for up, text, media_id in items:
            path, new = store_upload(sg, up)
            if new:
                created.append((path, up.sha256))
            shown[str(path)] = up.filename
            rows.append({"media": str(path), "text": text, **({"id": media_id} if media_id else {})})
        report = sg.ingest(rows).model_dump()
    finally:
        for path, sha in created:
            if sg.store.media_by_sha256(sha) is None:
                path.unlink(missing_ok=True)
    for item in report.get("skipped", []):
        item["ref"] = scrub(item["ref"], shown)
        item["reason"] = scrub(item["reason"], shown)
    return report
