"""sensegraph: link text to senses in a knowledge graph and rank media by text and sense evidence.

``from sensegraph import SenseGraph`` is the core API; the CLI, REST service and editor wrap it.
Importing the package is cheap: models load only when a method needs them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AuthError,
    ConfigError,
    EncoderMismatch,
    EncoderUnavailable,
    MediaError,
    NotFound,
    SenseGraphError,
    StoreError,
    ValidationError,
)

if TYPE_CHECKING:
    from .sensegraph import SenseGraph

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "SenseGraph":
        from .sensegraph import SenseGraph

        return SenseGraph
    raise AttributeError(name)


__all__ = [
    "AuthError", "ConfigError", "EncoderMismatch", "EncoderUnavailable", "MediaError", "NotFound",
    "SenseGraph", "SenseGraphError", "StoreError", "ValidationError", "__version__",
]
