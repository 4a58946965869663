"""Images with their caption text as a second modality: the default image encoder plus a caption block.

Native space: ``[visual 1280 | caption 384]`` (``native_blocks``). This encoder embeds the picture
alone and leaves the caption block zero; ingest fills it with the caption's MiniLM vector — the
joint text space, so the caption block of a sense's prototype is the mean text of its evidence
captions — weighed against the picture by the seed-002 confidence gate (``sensegraph.fusion.fuse_caption``).
A medium ingested without a caption keeps the picture alone, as with the default encoder.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sensegraph.fusion import CAPTION

from .base import MediaEmbedding, MediaInput
from .conse import ConseEncoder
from .text_cache import text_model_id

IMAGE_CLASSES = 1000  # ImageNet-1k: the picture's class distribution that the gate reads


class CaptionedEncoder:
    """An image ``Encoder`` whose native space has a ``caption`` block beside the picture's features."""

    def __init__(self, inner: Any | None = None, **options: Any) -> None:
        self.inner = inner if inner is not None else ConseEncoder(**options)
        self.joint_dim = self.inner.joint_dim
        own = getattr(self.inner, "native_blocks", None) or (("visual", self.inner.native_dim),)
        self.native_blocks: tuple[tuple[str, int], ...] = (*own, (CAPTION, self.joint_dim))
        self.native_dim = self.inner.native_dim + self.joint_dim
        self.image_classes = IMAGE_CLASSES
        self.encoder_id = f"{self.inner.encoder_id}+caption-block"
        self.text_model_id = text_model_id(self.inner)  # same texts, same vectors: the shared text cache serves both
        if getattr(self.inner, "decodes_bytes", False):
            self.decodes_bytes = True

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """The inner encoder's text vectors (the joint space the caption block is in)."""
        return self.inner.embed_texts(texts)

    def embed_media(self, media: Sequence[MediaInput]) -> MediaEmbedding:
        """The inner embedding with a zero caption block appended (ingest fills it from the caption)."""
        emb = self.inner.embed_media(media)
        pad = np.zeros((emb.native.shape[0], self.joint_dim), dtype=np.float32)
        return MediaEmbedding(joint=emb.joint, native=np.concatenate([emb.native, pad], axis=1), labels=emb.labels)

    def __repr__(self) -> str:
        return f"CaptionedEncoder({self.inner!r})"
