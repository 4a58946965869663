"""A small explicit registry of named factories: stores, encoders, linker parts and GNN models.

``register(kind, name)`` decorates a factory; ``get(kind, name)`` returns it or raises a
``ConfigError`` that lists the names that exist. Filled by explicit imports, no entry points.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])
_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {}


def register(kind: str, name: str) -> Callable[[F], F]:
    """Register ``factory`` under ``(kind, name)``; registering a name twice is an error."""

    def deco(factory: F) -> F:
        table = _REGISTRY.setdefault(kind, {})
        if name in table and table[name] is not factory:
            raise ConfigError(f"{kind} {name!r} is registered twice")
        table[name] = factory
        return factory

    return deco


def get(kind: str, name: str) -> Callable[..., Any]:
    """Return the factory registered as ``(kind, name)``."""
    table = _REGISTRY.get(kind, {})
    if name not in table:
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(f"unknown {kind} {name!r}; registered {kind}s: {known}")
    return table[name]


def names(kind: str) -> list[str]:
    """The names registered for ``kind``, sorted."""
    return sorted(_REGISTRY.get(kind, {}))
