"""Video: frames sampled at a fixed rate with PyAV (its wheel ships FFmpeg), embedded, mean-pooled.

``embed_video(encoder, source, fps=1.0)`` decodes the first video stream, keeps the first frame
and then one frame every ``1/fps`` seconds of presentation time (at most ``max_frames``), embeds
them in one ``embed_media`` call, and pools them into one embedding per space: the mean of the
frame vectors, renormalised. Labels are pooled as the mean class probability over frames.
"""
from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from sensegraph.errors import EncoderUnavailable, MediaError

from .base import Encoder, MediaEmbedding, MediaInput, l2_normalise
from .media import DEFAULT_LIMITS, MediaLimits, read_content, to_rgb

VIDEO_LIMITS = MediaLimits(max_bytes=1024 * 1024 * 1024)


@dataclass
class VideoEmbedding:
    """One pooled embedding per space, plus every sampled frame's and its time in seconds."""

    joint: np.ndarray  # (d_joint,)
    native: np.ndarray  # (d_native,)
    frames: MediaEmbedding
    timestamps: list[float] = field(default_factory=list)
    labels: list[tuple[str, float]] = field(default_factory=list)
    sha256: str = ""


def _import_av():
    """PyAV, imported only for video."""
    try:
        import av
    except ImportError as exc:
        raise EncoderUnavailable("video needs PyAV: pip install av") from exc
    return av


def sample_frames(
    data: bytes, fps: float = 1.0, max_frames: int = 64, origin: str = "<video>", limits: MediaLimits = DEFAULT_LIMITS
) -> list[tuple[float, Image.Image]]:
    """``(seconds, RGB frame)`` every ``1/fps`` seconds from the first video stream of ``data``."""
    if fps <= 0:
        raise MediaError(f"fps must be > 0, got {fps}")
    if max_frames < 1:
        raise MediaError(f"max_frames must be >= 1, got {max_frames}")
    av = _import_av()
    frames: list[tuple[float, Image.Image]] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise MediaError(f"{origin}: no video stream")
            stream = container.streams.video[0]
            if stream.width * stream.height > limits.max_pixels:
                raise MediaError(f"{origin}: {stream.width}x{stream.height} frames exceed max_pixels={limits.max_pixels}")
            next_t = None
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else len(frames) / fps
                if next_t is None:
                    next_t = t
                if t + 1e-6 < next_t:
                    continue
                frames.append((t, to_rgb(frame.to_image(), origin=origin)))
                next_t += 1.0 / fps
                while next_t <= t:  # a gap longer than the period: resume from here
                    next_t += 1.0 / fps
                if len(frames) >= max_frames:
                    break
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{origin}: not a decodable video ({exc})") from exc
    if not frames:
        raise MediaError(f"{origin}: video has no decodable frames")
    return frames


def pool(embedding: MediaEmbedding) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the frame vectors in each space, renormalised."""
    joint = l2_normalise(embedding.joint.mean(axis=0, keepdims=True))[0]
    native = l2_normalise(embedding.native.mean(axis=0, keepdims=True))[0]
    return joint, native


def pool_labels(labels: Sequence[Sequence[tuple[str, float]]], k: int = 5) -> list[tuple[str, float]]:
    """Mean probability per class over frames (absent = 0), the ``k`` highest."""
    if not labels:
        return []
    totals: dict[str, float] = defaultdict(float)
    for frame in labels:
        for sid, p in frame:
            totals[sid] += p / len(labels)
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def embed_video(
    encoder: Encoder,
    source: MediaInput,
    fps: float = 1.0,
    max_frames: int = 64,
    limits: MediaLimits = VIDEO_LIMITS,
) -> VideoEmbedding:
    """Sample, embed and pool a video given as a path, bytes or http(s) URL."""
    content = read_content(source, limits)
    sampled = sample_frames(content.data, fps=fps, max_frames=max_frames, origin=content.origin, limits=limits)
    frames = encoder.embed_media([image for _, image in sampled])
    joint, native = pool(frames)
    return VideoEmbedding(
        joint=joint,
        native=native,
        frames=frames,
        timestamps=[t for t, _ in sampled],
        labels=pool_labels(frames.labels),
        sha256=content.sha256,
    )
