"""Embed a batch of media, skipping the ones that fail to load and reporting why, without stopping."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sensegraph.errors import MediaError

from .base import Encoder, MediaEmbedding, MediaInput
from .media import DEFAULT_LIMITS, MediaLimits, load_image


@dataclass
class BatchResult:
    """Embeddings of the media that loaded (rows follow ``indices``) and ``(index, reason)`` for the rest."""

    embedding: MediaEmbedding
    indices: list[int] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)


def embed_batch(
    encoder: Encoder, media: Sequence[MediaInput], limits: MediaLimits = DEFAULT_LIMITS
) -> BatchResult:
    """Decode each medium; embed those that decode in one call; report the others by index."""
    images, indices, failures = [], [], []
    for i, item in enumerate(media):
        try:
            images.append(load_image(item, limits))
            indices.append(i)
        except MediaError as exc:
            failures.append((i, str(exc)))
    if images:
        embedding = encoder.embed_media(images)
    else:
        embedding = MediaEmbedding(
            joint=np.zeros((0, encoder.joint_dim), np.float32),
            native=np.zeros((0, encoder.native_dim), np.float32),
            labels=[],
        )
    return BatchResult(embedding=embedding, indices=indices, failures=failures)
