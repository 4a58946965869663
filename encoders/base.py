"""The ``Encoder`` seam: two embedding spaces, both float32 and L2-normalised.

* joint space — text and media are comparable there (first similarity, text ↔ medium);
* native space — the visual backbone's own pooled features, where sense prototypes are built and
  compared with media (second similarity) and media are compared with media.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Union, runtime_checkable

import numpy as np

# A medium as callers hand it over: a path, raw bytes, a PIL image, or an http(s) URL string.
MediaInput = Union[str, Path, bytes, "PIL.Image.Image"]  # noqa: F821


@dataclass
class MediaEmbedding:
    """Embeddings of a batch of media: ``joint`` (n, d_joint) and ``native`` (n, d_native).

    ``labels`` holds, per medium, the encoder's top classes as ``(sense_id, probability)`` when
    the encoder classifies into senses of the graph (the default's ImageNet classes are WordNet
    noun synsets); empty lists otherwise.
    """

    joint: np.ndarray
    native: np.ndarray
    labels: list[list[tuple[str, float]]] = field(default_factory=list)


@runtime_checkable
class Encoder(Protocol):
    """Embeds texts into the joint space and media into both spaces."""

    encoder_id: str  # model + weights + version; recorded in the store
    joint_dim: int
    native_dim: int

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, joint_dim) unit-norm float32."""
        ...

    def embed_media(self, media: Sequence[MediaInput]) -> MediaEmbedding:
        """Both spaces for each medium; raises ``MediaError`` naming the medium that failed."""
        ...


def l2_normalise(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Row-wise unit norm as float32 (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, eps)).astype(np.float32)
