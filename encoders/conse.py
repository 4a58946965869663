"""The offline default encoder: ConSE over EfficientNet-Lite0 and all-MiniLM-L6-v2.

ConSE (Norouzi et al., "Zero-Shot Learning by Convex Combination of Semantic Embeddings", ICLR
2014, https://arxiv.org/abs/1312.5650) places an image in a text space as the convex combination of
its top-T classes' label embeddings:

    joint(x) = normalise( Σ_{t ≤ T} p(y_t | x) · s(y_t) )

with p from EfficientNet-Lite0's ImageNet softmax and s(y) the MiniLM embedding of class y's
name. Text goes straight through MiniLM, so ``cos(joint_text(q), joint(x))`` is meaningful.

The native space is Lite0's 1280-d average-pooled penultimate feature, centred by its ImageNet mean
(estimated from the head BatchNorm, see ``effnet.expected_feature_mean``) and L2-normalised:
centring makes unrelated photos sit near cosine 0 instead of ~0.17, so prototype similarities
spread over the scale; the mean is a fixed property of the weights, so embeddings never drift.

Args:
    top (int, default 10): T, the number of classes mixed into the joint embedding (ConSE's T=10).
    labels_top (int, default 5): classes reported per medium in ``MediaEmbedding.labels``.
    centre_native (bool, default True): subtract the estimated ImageNet feature mean.
    batch_size (int, default 16): images per forward pass.
    limits (MediaLimits): caps for loading media.

Shapes: ``embed_texts`` → (n, 384); ``embed_media`` → joint (n, 384), native (n, 1280).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from sensegraph.errors import ConfigError, MediaError

from . import effnet
from .base import MediaEmbedding, MediaInput, l2_normalise
from .imagenet import class_embeddings, imagenet_classes
from .media import DEFAULT_LIMITS, MediaLimits, describe, load_image
from .text import MiniLMTextEncoder

ENCODER_BASE_ID = "conse-effnetlite0-minilm-l6-v2@1"


def conse_embed(probs: np.ndarray, class_vectors: np.ndarray, top: int) -> np.ndarray:
    """ConSE: per row, the probability-weighted mean of the top-``top`` class vectors, unit norm."""
    probs = np.asarray(probs, dtype=np.float32)
    top = min(top, probs.shape[1])
    idx = np.argpartition(-probs, top - 1, axis=1)[:, :top]
    weights = np.take_along_axis(probs, idx, axis=1)  # (n, top)
    mixed = np.einsum("nt,ntd->nd", weights, class_vectors[idx])
    return l2_normalise(mixed)


def top_labels(probs: np.ndarray, synsets: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
    """Per row, the ``k`` most probable ``(synset_id, probability)`` pairs, most probable first."""
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(synsets[j], float(row[j])) for j in cols] for row, cols in zip(probs, order)]


class ConseEncoder:
    """Images → ImageNet probabilities → MiniLM class-name mixture (joint) + Lite0 features (native)."""

    joint_dim = 384
    native_dim = effnet.FEATURE_DIM

    def __init__(
        self,
        top: int = 10,
        labels_top: int = 5,
        centre_native: bool = True,
        batch_size: int = 16,
        limits: MediaLimits = DEFAULT_LIMITS,
        text_encoder: MiniLMTextEncoder | None = None,
    ) -> None:
        if not 1 <= top <= 1000:
            raise ConfigError(f"top (T) must be in 1..1000, got {top}")
        if not 0 <= labels_top <= 1000:
            raise ConfigError(f"labels_top must be in 0..1000, got {labels_top}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.top = top
        self.labels_top = labels_top
        self.centre_native = centre_native
        self.batch_size = batch_size
        self.limits = limits
        self.text = text_encoder or MiniLMTextEncoder()
        native = "bnc" if centre_native else "raw"
        self.encoder_id = f"{ENCODER_BASE_ID}+T{top}+{native}"
        self._model: Any = None
        self._mean: np.ndarray | None = None
        self._lock = threading.Lock()

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 384) unit-norm MiniLM embeddings."""
        return self.text.embed_texts(texts)

    def embed_media(self, media: Sequence[MediaInput]) -> MediaEmbedding:
        """Load every medium (``MediaError`` names the first that fails), then embed in batches."""
        images = []
        for i, item in enumerate(media):
            try:
                images.append(load_image(item, self.limits))
            except MediaError as exc:
                raise MediaError(f"medium #{i} ({describe(item)[:200]}): {exc}") from exc
        return self.embed_images(images)

    def embed_images(self, images: Sequence[Any]) -> MediaEmbedding:
        """Embed already decoded RGB PIL images."""
        if not images:
            return MediaEmbedding(
                np.zeros((0, self.joint_dim), np.float32), np.zeros((0, self.native_dim), np.float32), []
            )
        return self.embed_images_with_probs(images)[0]

    def embed_images_with_probs(self, images: Sequence[Any]) -> tuple[MediaEmbedding, np.ndarray]:
        """``embed_images`` and the (n, 1000) ImageNet probabilities behind it (fusion gates read them)."""
        probs, feats = self._classify(images)
        joint = conse_embed(probs, class_embeddings(self.text), self.top)
        if self.centre_native:
            feats = feats - self._mean
        synsets = [sid for sid, _ in imagenet_classes()]
        labels = top_labels(probs, synsets, self.labels_top) if self.labels_top else [[] for _ in images]
        return MediaEmbedding(joint=joint, native=l2_normalise(feats), labels=labels), probs

    def classify(self, images: Sequence[Any]) -> np.ndarray:
        """(n, 1000) ImageNet class probabilities of decoded RGB images."""
        return self._classify(images)[0]

    def _classify(self, images: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Softmax probabilities (n, 1000) and pooled features (n, 1280), batched, no grad."""
        import torch

        model = self._load()
        probs = np.empty((len(images), 1000), dtype=np.float32)
        feats = np.empty((len(images), self.native_dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                chunk = images[start : start + self.batch_size]
                batch = torch.from_numpy(np.stack([effnet.preprocess(im) for im in chunk]))
                logits, pooled = effnet.forward(model, batch)
                probs[start : start + len(chunk)] = torch.softmax(logits, dim=1).numpy()
                feats[start : start + len(chunk)] = pooled.numpy()
        return probs, feats

    def _load(self) -> Any:
        """Load the model (and the feature mean) once, under a lock."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    model = effnet.load_model()
                    self._mean = effnet.expected_feature_mean(model)  # reads BatchNorm: before folding
                    self._model = effnet.fold_batchnorm(model)
        return self._model

    def __repr__(self) -> str:
        return f"ConseEncoder(top={self.top}, centre_native={self.centre_native}, batch_size={self.batch_size})"
