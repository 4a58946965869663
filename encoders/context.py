"""The linker's context model by name (``linker.context_model``): which text model embeds windows and sense texts.

``minilm`` is the joint text space's own model (search, prototypes and the linker share one MiniLM
pass per query); ``mpnet`` (all-mpnet-base-v2, ``encoders/mpnet.py``) is larger and more accurate at
disambiguation but about 6× slower per text. The joint text space for search stays MiniLM either way.
"""
from __future__ import annotations

import os

from sensegraph.errors import ConfigError

from .text_cache import CachedTextModel, text_cache_dir

CONTEXT_MODELS = ("minilm", "mpnet")


def context_text_model(name: str, cache_dir: str | os.PathLike[str] | None = None) -> CachedTextModel:
    """The named model's ``embed_texts`` behind the shared text cache (``cache_dir``: ``encoder.text_cache_dir``)."""
    if name == "minilm":
        from .text import MiniLMTextEncoder

        model: object = MiniLMTextEncoder()
    elif name == "mpnet":
        from .mpnet import MPNetTextEncoder

        model = MPNetTextEncoder(cache_dir=cache_dir)
    else:
        raise ConfigError(f"linker.context_model must be one of {', '.join(CONTEXT_MODELS)}, not {name!r}")
    return CachedTextModel(model, text_cache_dir(cache_dir))
