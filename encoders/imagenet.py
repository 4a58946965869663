"""ImageNet-1k classes as WordNet senses, and their MiniLM embeddings (computed once per process).

The 1000 synset ids (``n02123045``) and names (``tabby, tabby cat``) come from ``timm``'s bundled
ImageNet metadata. A class's text embedding is the normalised mean of its lemmas' embeddings
("tabby", "tabby cat"): on the sample photos this beat embedding the comma-joined name or only the
first lemma by a small, consistent margin (see docs/encoders.md).
"""
from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

from .base import l2_normalise
from .text import MiniLMTextEncoder

_EMBED_LOCK = threading.Lock()
_EMBEDDINGS: dict[str, np.ndarray] = {}


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """``(synset_id, description)`` for the 1000 ImageNet-1k classes, in logit order."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(
        (info.index_to_label_name(i), info.index_to_description(i)) for i in range(info.num_classes())
    )


def class_lemmas(description: str) -> list[str]:
    """The comma-separated lemmas of a class description, stripped, empty ones dropped."""
    return [part.strip() for part in description.split(",") if part.strip()]


def class_embeddings(text_encoder: MiniLMTextEncoder) -> np.ndarray:
    """(1000, d) unit-norm lemma-mean embeddings of the class names; cached per text encoder id."""
    key = text_encoder.encoder_id
    cached = _EMBEDDINGS.get(key)
    if cached is not None:
        return cached
    with _EMBED_LOCK:
        if key not in _EMBEDDINGS:
            lemmas = [class_lemmas(desc) for _, desc in imagenet_classes()]
            flat = [lemma for group in lemmas for lemma in group]
            vectors = text_encoder.embed_texts(flat)
            out = np.empty((len(lemmas), vectors.shape[1]), dtype=np.float32)
            start = 0
            for i, group in enumerate(lemmas):
                out[i] = vectors[start : start + len(group)].mean(axis=0)
                start += len(group)
            out = l2_normalise(out)
            out.setflags(write=False)
            _EMBEDDINGS[key] = out
    return _EMBEDDINGS[key]
