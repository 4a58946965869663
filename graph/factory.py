"""Open a ``GraphStore`` from the one store convention: a directory, or a ``bolt://`` URI.

``bolt://``, ``bolt+s://``, ``neo4j://`` and ``neo4j+s://`` URIs open a ``Neo4jStore`` with
credentials from ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD`` (and ``NEO4J_DATABASE``); anything else
is a directory holding an ``EmbeddedStore``.
"""
from __future__ import annotations

import os

from sensegraph.config import resolve_store_uri
from sensegraph.errors import ConfigError
from sensegraph.registry import get

from .base import GraphStore

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def store_kind(uri: str) -> str:
    """``neo4j`` for a Bolt URI, ``embedded`` for a directory."""
    return "neo4j" if uri.startswith(NEO4J_SCHEMES) else "embedded"


def open_store(uri: str | None = None, **options: object) -> GraphStore:
    """Open the store at ``uri`` (default: ``$SENSEGRAPH_STORE`` or ``./sensegraph-data``)."""
    uri = resolve_store_uri(uri)
    if "://" in uri and store_kind(uri) != "neo4j":
        raise ConfigError(f"store {uri!r}: expected a directory or a Neo4j URI ({', '.join(NEO4J_SCHEMES)})")
    kind = store_kind(uri)
    _load(kind)
    if kind == "neo4j":
        options.setdefault("user", os.environ.get("NEO4J_USERNAME", os.environ.get("NEO4J_USER", "neo4j")))
        options.setdefault("password", os.environ.get("NEO4J_PASSWORD", ""))
        options.setdefault("database", os.environ.get("NEO4J_DATABASE") or None)
    return get("store", kind)(uri, **options)


def _load(kind: str) -> None:
    """Import the store's module so it registers itself (keeps the neo4j driver optional at import)."""
    if kind == "neo4j":
        from . import neo4j_store  # noqa: F401
    else:
        from . import embedded  # noqa: F401
