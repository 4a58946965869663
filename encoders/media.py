"""Media loading and validation: path, bytes, PIL image or http(s) URL → an RGB ``PIL.Image``.

Two steps, so the ingest pipeline can key on content before decoding anything:

* ``read_content(source)`` → ``MediaContent(data, sha256, origin)``: the raw bytes and their hash;
* ``decode_image(data)`` → RGB image: EXIF orientation applied, CMYK / palette / LA / alpha
  flattened over white, the first frame of an animation, very large images downscaled while
  decoding, and a ``MediaError`` naming the problem for empty, non-image, truncated, oversized or
  decompression-bomb input.

``load_image(source)`` does both. Every error names the medium it is about.
"""
from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from sensegraph.errors import MediaError

from .base import MediaInput

URL_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class MediaLimits:
    """Caps applied while reading and decoding media; defaults suit photos, raise them for scans."""

    max_bytes: int = 64 * 1024 * 1024  # larger files (or downloads) are refused
    max_pixels: int = 89_478_485  # width × height above this is treated as a decompression bomb
    decode_pixels: int = 16_000_000  # legal images above this are downscaled while decoding
    url_timeout_s: float = 15.0
    user_agent: str = "sensegraph-media/1"

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "decode_pixels"):
            if getattr(self, name) < 1:
                raise MediaError(f"MediaLimits.{name} must be >= 1, got {getattr(self, name)}")
        if self.url_timeout_s <= 0:
            raise MediaError(f"MediaLimits.url_timeout_s must be > 0, got {self.url_timeout_s}")


DEFAULT_LIMITS = MediaLimits()


@dataclass(frozen=True)
class MediaContent:
    """A medium's bytes, their SHA-256 (hex) and where they came from (for messages and URIs)."""

    data: bytes
    sha256: str
    origin: str


def describe(source: Any) -> str:
    """A short human name for a medium, for error messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    if isinstance(source, Image.Image):
        return f"<PIL image {source.mode} {source.size[0]}x{source.size[1]}>"
    return str(source)


def is_url(source: Any) -> bool:
    """True for an ``http://`` or ``https://`` string."""
    return isinstance(source, str) and source.lower().startswith(URL_SCHEMES)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file read in 4 MiB blocks: weights files are checked without holding them in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def read_content(source: MediaInput, limits: MediaLimits = DEFAULT_LIMITS) -> MediaContent:
    """The bytes of ``source`` (a PIL image is encoded as PNG) and their SHA-256."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, origin = bytes(source), describe(source)
    elif isinstance(source, Image.Image):
        data, origin = _png_bytes(source), describe(source)
    elif is_url(source):
        data, origin = _fetch_url(str(source), limits), str(source)
    elif isinstance(source, (str, Path)):
        data, origin = _read_file(Path(source), limits), str(source)
    else:
        raise MediaError(
            f"cannot load a medium from {type(source).__name__}; pass a path, bytes, a PIL image or an http(s) URL"
        )
    if not data:
        raise MediaError(f"{origin}: empty file (0 bytes)")
    if len(data) > limits.max_bytes:
        raise MediaError(f"{origin}: {len(data)} bytes exceeds max_bytes={limits.max_bytes}")
    return MediaContent(data=data, sha256=sha256_hex(data), origin=origin)


def load_image(source: MediaInput, limits: MediaLimits = DEFAULT_LIMITS) -> Image.Image:
    """``source`` as a decoded RGB image (a PIL image is normalised without re-encoding)."""
    if isinstance(source, Image.Image):
        return to_rgb(_first_frame(source), origin=describe(source))
    content = read_content(source, limits)
    return decode_image(content.data, limits, origin=content.origin)


def decode_image(data: bytes, limits: MediaLimits = DEFAULT_LIMITS, origin: str = "<bytes>") -> Image.Image:
    """Decode ``data`` into an RGB image, enforcing ``limits``; ``MediaError`` names what is wrong."""
    if not data:
        raise MediaError(f"{origin}: empty file (0 bytes)")
    image = _open(data, origin)
    width, height = image.size
    if width * height > limits.max_pixels:
        raise MediaError(
            f"{origin}: {width}x{height} = {width * height} pixels exceeds max_pixels={limits.max_pixels} "
            "(possible decompression bomb; raise MediaLimits.max_pixels if the image is legitimate)"
        )
    if width * height > limits.decode_pixels:
        _draft_down(image, limits.decode_pixels)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"{origin}: truncated or corrupt image data ({exc})") from exc
    image = _first_frame(image)
    if image.width * image.height > limits.decode_pixels:
        image.thumbnail(_fit(image.size, limits.decode_pixels), Image.Resampling.LANCZOS)
    try:
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        pass  # a malformed EXIF block only loses the orientation; the pixels are fine
    return to_rgb(image, origin=origin)


def to_rgb(image: Image.Image, origin: str = "<image>") -> Image.Image:
    """RGB copy of ``image``: alpha (RGBA, LA, PA, palette transparency) composited over white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return _high_depth_to_rgb(image)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info)
    try:
        if has_alpha:
            rgba = image.convert("RGBA")
            canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            canvas.alpha_composite(rgba)
            return canvas.convert("RGB")
        return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, P, L, 1
    except (OSError, ValueError) as exc:
        raise MediaError(f"{origin}: cannot convert image mode {mode} to RGB ({exc})") from exc


def _open(data: bytes, origin: str) -> Image.Image:
    """``Image.open`` with Pillow's own errors turned into ``MediaError``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own cap decides
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise MediaError(f"{origin}: decompression bomb refused by Pillow ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise MediaError(f"{origin}: {_not_an_image(data)}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"{origin}: unreadable image header ({exc})") from exc
    return image


def _first_frame(image: Image.Image) -> Image.Image:
    """Frame 0 of an animated image, as a standalone image; other images unchanged."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
        return image.copy()
    return image


def _fit(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The largest (w, h) with the same aspect ratio and at most ``max_pixels`` pixels."""
    width, height = size
    scale = (max_pixels / float(width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def _draft_down(image: Image.Image, max_pixels: int) -> None:
    """Let the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding (other formats ignore it)."""
    target = _fit(image.size, max_pixels)
    try:
        image.draft("RGB", target)
    except (OSError, ValueError):
        pass


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    """16-bit / 32-bit grey → 8-bit RGB, scaled by the image's own range (Pillow would clip)."""
    import numpy as np

    arr = np.asarray(image, dtype=np.float64)
    lo, hi = float(arr.min()), float(arr.max())
    scaled = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
    return Image.fromarray(scaled.astype(np.uint8), mode="L").convert("RGB")


def _png_bytes(image: Image.Image) -> bytes:
    """A PIL image encoded as PNG (lossless, so the content hash reflects the pixels)."""
    buf = io.BytesIO()
    frame = _first_frame(image)
    if frame.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
        frame = frame.convert("RGBA" if "A" in frame.mode else "RGB")
    frame.save(buf, format="PNG")
    return buf.getvalue()


def _read_file(path: Path, limits: MediaLimits) -> bytes:
    """File bytes, refusing missing files, directories and files over ``max_bytes``."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise MediaError(f"{path}: no such file") from exc
    except OSError as exc:
        raise MediaError(f"{path}: cannot stat ({exc})") from exc
    if path.is_dir():
        raise MediaError(f"{path}: is a directory, not a media file")
    if size > limits.max_bytes:
        raise MediaError(f"{path}: {size} bytes exceeds max_bytes={limits.max_bytes}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc})") from exc


def _fetch_url(url: str, limits: MediaLimits) -> bytes:
    """GET ``url`` with a timeout, refusing bodies over ``max_bytes`` (checked while streaming)."""
    request = urllib.request.Request(url, headers={"User-Agent": limits.user_agent})
    try:
        with urllib.request.urlopen(request, timeout=limits.url_timeout_s) as response:  # noqa: S310
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise MediaError(f"{url}: Content-Length {declared} exceeds max_bytes={limits.max_bytes}")
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = response.read(1 << 16)
                if not chunk:
                    break
                total += len(chunk)
                if total > limits.max_bytes:
                    raise MediaError(f"{url}: body exceeds max_bytes={limits.max_bytes}")
                chunks.append(chunk)
    except MediaError:
        raise
    except urllib.error.HTTPError as exc:
        raise MediaError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise MediaError(f"{url}: cannot fetch ({exc.reason})") from exc
    except TimeoutError as exc:
        raise MediaError(f"{url}: timed out after {limits.url_timeout_s}s") from exc
    except OSError as exc:
        raise MediaError(f"{url}: cannot fetch ({exc})") from exc
    return b"".join(chunks)


# -- audio -----------------------------------------------------------------------------------------
AUDIO_RATE = 16_000  # every audio model here takes 16 kHz mono


@dataclass(frozen=True)
class AudioLimits:
    """Caps for audio: file size, duration (an hours-long recording is refused, not decoded) and the
    shortest clip worth embedding; ``truncated_ratio``: decoding less than this share of the declared
    duration means the file is cut short."""

    max_bytes: int = 256 * 1024 * 1024
    max_seconds: float = 600.0
    min_seconds: float = 0.05
    truncated_ratio: float = 0.5

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or not self.max_seconds > 0 or self.min_seconds < 0:
            raise MediaError(f"AudioLimits need max_bytes >= 1, max_seconds > 0, min_seconds >= 0; got {self}")


AUDIO_LIMITS = AudioLimits()

# Magic numbers of the audio formats PyAV decodes most often (containers like MP4/WebM/Ogg/Matroska
# can hold audio, video or both: PyAV looks at their streams).
_AUDIO_MAGIC = (b"RIFF", b"OggS", b"fLaC", b"ID3", b"FORM", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b".snd", b"#!AMR", b"wvpk")


def _import_av():
    """PyAV (its wheel ships FFmpeg), imported only for audio and video."""
    try:
        import av
    except ImportError as exc:
        from sensegraph.errors import EncoderUnavailable

        raise EncoderUnavailable("audio and video need PyAV: pip install 'sensegraph[audio]' (or av)") from exc
    return av


def _not_an_image(data: bytes) -> str:
    """Why bytes Pillow cannot read are no image: a video or a sound names the encoder that reads it."""
    try:
        kind = media_kind(data)
    except MediaError:
        kind = "unknown"
    if kind in ("video", "audio"):
        what = "a video" if kind == "video" else "a sound"
        return (f"this is {what}, not an image, and this encoder reads images only: use the multimodal encoder "
                f"(a new store: `sensegraph ingest MANIFEST --encoder multimodal`, or config encoder.name: multimodal)")
    return f"not an image (no decoder recognises these {len(data)} bytes)"


def media_kind(data: bytes, origin: str = "<bytes>") -> str:
    """``"image"``, ``"audio"`` or ``"video"`` from the bytes themselves (never the file name).

    Pillow recognises images; PyAV's demuxer says whether a container holds a moving picture (a cover
    picture attached to a song does not count) or only sound. Anything else is a ``MediaError``.
    """
    if not data:
        raise MediaError(f"{origin}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data))
        return "image"
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for non-images
        pass
    try:
        av = _import_av()
    except Exception:  # noqa: BLE001 - no PyAV: only the magic numbers can tell
        if data.startswith(_AUDIO_MAGIC):
            return "audio"
        raise MediaError(f"{origin}: not an image, and PyAV is not installed to read audio or video") from None
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            moving = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
            if moving:
                return "video"
            if container.streams.audio:
                return "audio"
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{origin}: not an image, audio or video file ({len(data)} bytes no decoder recognises: {exc})") from exc
    raise MediaError(f"{origin}: a media container with no picture and no sound stream")


def decode_audio(data: bytes, limits: AudioLimits = AUDIO_LIMITS, origin: str = "<bytes>", *, keep_first: bool = False) -> np.ndarray:
    """The first audio stream of ``data`` as 16 kHz mono float32 in [-1, 1] (PyAV's resampler).

    ``MediaError`` naming the medium for empty, non-audio, corrupt, truncated, silent-length or
    over-long input; the duration is checked from the header before decoding and again while decoding
    (a header can lie), so an hours-long file costs no more than ``max_seconds`` of decoding.
    ``keep_first``: keep the first ``max_seconds`` of a longer track instead (a long video's sound).
    """
    import numpy as np

    if not data:
        raise MediaError(f"{origin}: empty file (0 bytes)")
    if len(data) > limits.max_bytes:
        raise MediaError(f"{origin}: {len(data)} bytes exceeds AudioLimits.max_bytes={limits.max_bytes}")
    av = _import_av()
    chunks: list[np.ndarray] = []
    total = 0
    cap = int(limits.max_seconds * AUDIO_RATE)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise MediaError(f"{origin}: no audio stream")
            stream = container.streams.audio[0]
            declared = _declared_seconds(container, stream, data)
            if declared is not None and declared > limits.max_seconds and not keep_first:
                raise MediaError(f"{origin}: {declared:.0f} s of audio exceeds AudioLimits.max_seconds={limits.max_seconds:g}")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    total += chunk.size
                    if total > cap:
                        if keep_first:
                            chunks.append(chunk[: chunk.size - (total - cap)])
                            break
                        raise MediaError(f"{origin}: audio runs past AudioLimits.max_seconds={limits.max_seconds:g}")
                    chunks.append(chunk)
                if total > cap:
                    break
            if total <= cap:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise MediaError(f"{origin}: not decodable audio ({exc})") from exc
    wave = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    seconds = wave.size / AUDIO_RATE
    if seconds < max(limits.min_seconds, 1e-9):
        raise MediaError(f"{origin}: audio has {seconds:.3f} s of samples (under AudioLimits.min_seconds={limits.min_seconds:g})")
    if declared is not None and declared > 1.0 and seconds < limits.truncated_ratio * min(declared, limits.max_seconds):
        raise MediaError(f"{origin}: truncated audio: {seconds:.2f} s decoded of {declared:.2f} s declared")
    if not np.all(np.isfinite(wave)):
        raise MediaError(f"{origin}: audio decoded to NaN or infinite samples")
    return np.clip(wave, -1.0, 1.0)


def _declared_seconds(container: Any, stream: Any, data: bytes = b"") -> float | None:
    """The duration the header declares (a WAV's own data-chunk size, else PyAV's stream, then container
    duration; FFmpeg sizes a WAV by the bytes present, which hides a cut-off file), or None."""
    riff = _wav_seconds(data)
    if riff is not None:
        return riff
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000.0
    return None


def _wav_seconds(data: bytes) -> float | None:
    """Seconds a RIFF/WAVE header's ``data`` chunk declares (size / byte rate), or None for other files."""
    import struct

    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, None
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if tag == b"fmt " and pos + 16 <= len(data):
            byte_rate = struct.unpack("<I", data[pos + 16:pos + 20])[0] if pos + 20 <= len(data) else None
        elif tag == b"data":
            return size / byte_rate if byte_rate else None
        pos += 8 + size + (size & 1)
    return None
