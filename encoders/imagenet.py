"""ImageNet-1k classes as WordNet senses, and their MiniLM embeddings (computed once per process).

The 1000 synset ids (``n02123045``) and names (``tabby, tabby cat``) come from ``timm``'s bundled
ImageNet metadata files (read directly: importing timm costs seconds). A class's text embedding is
the normalised mean of its lemmas' embeddings ("tabby", "tabby cat"): on the sample photos this beat
embedding the comma-joined name or only the first lemma by a small, consistent margin (see
docs/encoders.md).

Embedding the ~2,500 lemmas takes 10 s on two idle cores (over a minute on a busy machine), so the
result ships precomputed in ``data/imagenet_minilm_l6_v2.npz`` together with the SHA-256 of the
MiniLM weights and of the class list it was computed from; it is used only when both match the
installed packages, and recomputed otherwise (``python -m sensegraph.encoders.imagenet`` rewrites it).
"""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from sensegraph.errors import EncoderUnavailable

from .base import l2_normalise
from .media import sha256_file, sha256_hex
from .text import MiniLMTextEncoder, minilm_model_dir

PRECOMPUTED = Path(__file__).parent / "data" / "imagenet_minilm_l6_v2.npz"

_EMBED_LOCK = threading.Lock()
_EMBEDDINGS: dict[str, np.ndarray] = {}


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """``(synset_id, description)`` for the 1000 ImageNet-1k classes, in logit order.

    Read from the two text files timm ships (``timm/data/_info``), exactly as ``timm.data.ImageNetInfo``
    reads them, without importing timm (seconds at every ingest for a class list).
    """
    import csv
    import importlib.util

    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable("the default encoder's ImageNet class list ships with timm: pip install timm")
    info = Path(list(spec.submodule_search_locations)[0]) / "data" / "_info"
    try:
        synsets = (info / "imagenet_synsets.txt").read_text(encoding="utf-8").splitlines()
        lemmas = dict(csv.reader((info / "imagenet_synset_to_lemma.txt").read_text(encoding="utf-8").splitlines(),
                                 delimiter="\t"))
        return tuple((sid, lemmas[sid]) for sid in synsets)
    except (OSError, KeyError) as exc:
        raise EncoderUnavailable(f"timm's ImageNet class files under {info} are missing or incomplete ({exc}); "
                                 "reinstall timm") from exc


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
            vectors = _load_precomputed(text_encoder)
            if vectors is None:
                vectors = compute_class_embeddings(text_encoder)
            vectors.setflags(write=False)
            _EMBEDDINGS[key] = vectors
    return _EMBEDDINGS[key]


def compute_class_embeddings(text_encoder: MiniLMTextEncoder, indices: list[int] | None = None) -> np.ndarray:
    """Embed the lemmas of the classes at ``indices`` (all by default) and average them per class."""
    classes = imagenet_classes()
    chosen = range(len(classes)) if indices is None else indices
    lemmas = [class_lemmas(classes[i][1]) for i in chosen]
    flat = [lemma for group in lemmas for lemma in group]
    vectors = text_encoder.embed_texts(flat)
    out = np.empty((len(lemmas), vectors.shape[1]), dtype=np.float32)
    start = 0
    for i, group in enumerate(lemmas):
        out[i] = vectors[start : start + len(group)].mean(axis=0)
        start += len(group)
    return l2_normalise(out)


@lru_cache(maxsize=1)
def fingerprints() -> tuple[str, str]:
    """SHA-256 of the installed MiniLM weights and of the class list (ids and names, in order)."""
    weights = sha256_file(minilm_model_dir() / "model.safetensors")
    listing = "\n".join(f"{sid}\t{desc}" for sid, desc in imagenet_classes())
    return weights, sha256_hex(listing.encode("utf-8"))


def _load_precomputed(text_encoder: MiniLMTextEncoder) -> np.ndarray | None:
    """The shipped class embeddings when they were made from the installed weights and class list."""
    if text_encoder._model_dir is not None or not PRECOMPUTED.is_file():
        return None
    with np.load(PRECOMPUTED, allow_pickle=False) as data:
        if (str(data["weights_sha256"]), str(data["classes_sha256"])) != fingerprints():
            return None
        vectors = np.array(data["vectors"], dtype=np.float32)
    return vectors if vectors.shape == (len(imagenet_classes()), text_encoder.dim) else None


def write_precomputed(path: Path = PRECOMPUTED) -> Path:
    """Recompute the class embeddings and write them with their fingerprints."""
    weights, classes = fingerprints()
    vectors = compute_class_embeddings(MiniLMTextEncoder())
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, vectors=vectors, weights_sha256=np.array(weights), classes_sha256=np.array(classes))
    return path


if __name__ == "__main__":
    print(write_precomputed())
