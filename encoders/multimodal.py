"""Images, sounds and videos in one store: ConSE images + YAMNet audio, fused per medium by a confidence gate.

Joint space: MiniLM (384-d) for all, since both models reach it through ConSE over their class names.
Native space: two blocks side by side, ``[visual 1280 | audio 1024]`` (``native_blocks``): an image
fills the visual block (EfficientNet-Lite0 features), a sound the audio block (YAMNet features), a
video both — its sampled frames' mean in the visual block and its sound track in the audio block,
each scaled by the seed-002 gate (``sensegraph.fusion``: 1 − normalised entropy of that modality's
class distribution). Features of one model are therefore never compared with the other's: a
prototype's visual block is built from images and frames, its audio block from sounds, and search
scores each block on its own (``fusion.modality_prototypes``).

Options: ``fuse_audio`` (default True; False embeds a video from its frames alone, the baseline the
fusion is measured against), ``fps`` and ``max_frames`` for video sampling, ``image_top`` and
``audio_top`` (ConSE's T per model).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
import numpy as np
from PIL import Image

from sensegraph.errors import MediaError
from sensegraph.fusion import fuse_joint, fuse_native, gate_weights

from .audio import YamnetAudioEncoder
from .base import MediaEmbedding, MediaInput, l2_normalise
from .conse import ConseEncoder
from .effnet import FEATURE_DIM as VISUAL_DIM
from .media import (
    AUDIO_LIMITS,
    DEFAULT_LIMITS,
    AudioLimits,
    MediaLimits,
    decode_audio,
    decode_image,
    describe,
    load_image,
    media_kind,
    read_content,
)
from .text import MiniLMTextEncoder
from .video import pool_labels, sample_frames

AUDIO_DIM = 1024
NATIVE_BLOCKS: tuple[tuple[str, int], ...] = (("visual", VISUAL_DIM), ("audio", AUDIO_DIM))
READ_LIMITS = MediaLimits(max_bytes=1024 * 1024 * 1024)  # a video may be large; each decoder caps its own part


class MultimodalEncoder:
    """One ``Encoder`` for image, audio and video media (bytes are sniffed, never trusted by name)."""

    joint_dim = 384
    native_dim = VISUAL_DIM + AUDIO_DIM
    native_blocks = NATIVE_BLOCKS
    decodes_bytes = True  # the embedding cache hands over raw bytes; kinds are told apart here

    def __init__(
        self,
        fuse_audio: bool = True,
        fps: float = 1.0,
        max_frames: int = 32,
        image_top: int = 10,
        audio_top: int = 10,
        limits: MediaLimits = DEFAULT_LIMITS,
        audio_limits: AudioLimits = AUDIO_LIMITS,
    ) -> None:
        if fps <= 0 or max_frames < 1:
            raise MediaError(f"fps must be > 0 and max_frames >= 1, got {fps}, {max_frames}")
        text = MiniLMTextEncoder()
        self.image = ConseEncoder(top=image_top, text_encoder=text, limits=limits)
        self.audio = YamnetAudioEncoder(top=audio_top, limits=audio_limits, text_encoder=text)
        self.fuse_audio, self.fps, self.max_frames = fuse_audio, fps, max_frames
        self.limits, self.audio_limits = limits, audio_limits
        video = f"+video{fps:g}fps{max_frames}" + ("+gate-entropy" if fuse_audio else "+frames-only")
        self.encoder_id = f"multimodal[{self.image.encoder_id}|{self.audio.encoder_id}]{video}"

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 384) unit-norm MiniLM embeddings."""
        return self.image.embed_texts(texts)

    def embed_media(self, media: Sequence[MediaInput]) -> MediaEmbedding:
        """Embed each medium by what its bytes are; ``MediaError`` names the first that fails."""
        n = len(media)
        joint = np.zeros((n, self.joint_dim), np.float32)
        native = np.zeros((n, self.native_dim), np.float32)
        labels: list[list[tuple[str, float]]] = [[] for _ in range(n)]
        images: list[tuple[int, Image.Image]] = []
        for i, item in enumerate(media):
            try:
                if isinstance(item, Image.Image):
                    images.append((i, load_image(item, self.limits)))
                    continue
                content = read_content(item, READ_LIMITS)
                kind = media_kind(content.data, content.origin)
                if kind == "image":
                    if len(content.data) > self.limits.max_bytes:
                        raise MediaError(f"{content.origin}: {len(content.data)} bytes exceeds max_bytes={self.limits.max_bytes}")
                    images.append((i, decode_image(content.data, self.limits, origin=content.origin)))
                elif kind == "audio":
                    wave = decode_audio(content.data, self.audio_limits, origin=content.origin)
                    a_joint, a_native, _ = self.audio.embed_waveform(wave)
                    joint[i] = a_joint
                    native[i] = fuse_native([None, a_native], np.array([0.0, 1.0]), NATIVE_BLOCKS)
                else:
                    joint[i], native[i], labels[i] = self._video(content.data, content.origin)
            except MediaError as exc:
                raise MediaError(f"medium #{i} ({describe(item)[:200]}): {exc}") from exc
        if images:
            emb = self.image.embed_images([im for _, im in images])
            for j, (i, _) in enumerate(images):
                joint[i] = emb.joint[j]
                native[i] = fuse_native([emb.native[j], None], np.array([1.0, 0.0]), NATIVE_BLOCKS)
                labels[i] = emb.labels[j] if emb.labels else []
        return MediaEmbedding(joint=joint, native=native, labels=labels)

    def _video(self, data: bytes, origin: str) -> tuple[np.ndarray, np.ndarray, list[tuple[str, float]]]:
        """Frames (mean of the sampled frames) and sound track, fused by the confidence gate."""
        sampled = sample_frames(data, fps=self.fps, max_frames=self.max_frames, origin=origin, limits=self.limits)
        frames, probs = self.image.embed_images_with_probs([im for _, im in sampled])
        v_joint = l2_normalise(frames.joint.mean(axis=0, keepdims=True))[0]
        v_native = l2_normalise(frames.native.mean(axis=0, keepdims=True))[0]
        v_dist = probs.mean(axis=0)
        a_joint = a_native = a_dist = None
        if self.fuse_audio and _has_audio(data):
            wave = decode_audio(data, self.audio_limits, origin=f"{origin} (sound track)", keep_first=True)
            a_joint, a_native, a_dist = self.audio.embed_waveform(wave)
        g = gate_weights([v_dist, a_dist])
        joint = fuse_joint([v_joint, a_joint], g)
        native = fuse_native([v_native, a_native], g, NATIVE_BLOCKS)
        return joint, native, pool_labels(frames.labels)

    def gates(self, media: MediaInput) -> dict[str, float]:
        """The gate weights g_m of a video's modalities (frames, audio), for inspection and docs."""
        content = read_content(media, READ_LIMITS)
        sampled = sample_frames(content.data, fps=self.fps, max_frames=self.max_frames, origin=content.origin, limits=self.limits)
        _, probs = self.image.embed_images_with_probs([im for _, im in sampled])
        a_dist = None
        if _has_audio(content.data):
            wave = decode_audio(content.data, self.audio_limits, origin=content.origin, keep_first=True)
            a_dist = self.audio.embed_waveform(wave)[2]
        g = gate_weights([probs.mean(axis=0), a_dist])
        return {"visual": float(g[0]), "audio": float(g[1])}

    def __repr__(self) -> str:
        return f"MultimodalEncoder(fuse_audio={self.fuse_audio}, fps={self.fps}, max_frames={self.max_frames})"


def _has_audio(data: bytes) -> bool:
    """Whether a container holds a sound stream (a silent video is fused from its frames alone)."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            return bool(container.streams.audio)
    except (av.error.FFmpegError, OSError, ValueError):
        return False

