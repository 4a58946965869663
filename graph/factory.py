"""Open a ``GraphStore`` from the one store convention: a directory, or a ``bolt://`` URI.

``bolt://``, ``bolt+s://``, ``neo4j://`` and ``neo4j+s://`` URIs open a ``Neo4jStore`` with
credentials from ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD`` (and ``NEO4J_DATABASE``); anything else
is a directory holding an ``EmbeddedStore``. ``create=False`` refuses a directory that holds no
store instead of creating an empty one (what every reading command wants: a typo is an error).
"""
from __future__ import annotations

import os
from pathlib import Path

from sensegraph.config import resolve_store_uri
from sensegraph.errors import ConfigError, StoreNotFound
from sensegraph.registry import get

from .base import GraphStore

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
EMBEDDED_DB_FILE = "graph.sqlite"  # what makes a directory an embedded store (graph/embedded.py DB_FILE)


def store_kind(uri: str) -> str:
    """``neo4j`` for a Bolt URI, ``embedded`` for a directory."""
    return "neo4j" if uri.startswith(NEO4J_SCHEMES) else "embedded"


def open_store(uri: str | os.PathLike[str] | None = None, *, create: bool = True, **options: object) -> GraphStore:
    """Open the store at ``uri`` (default: ``$SENSEGRAPH_STORE`` or ``./sensegraph-data``).

    With ``create=False`` a directory without a store raises ``StoreNotFound`` naming the path and
    how to make one; a Neo4j URI is a store when it answers (an unreachable one raises ``StoreError``).
    """
    uri = resolve_store_uri(os.fspath(uri) if isinstance(uri, os.PathLike) else uri)
    if "://" in uri and store_kind(uri) != "neo4j":
        raise ConfigError(f"store {uri!r}: expected a directory or a Neo4j URI ({', '.join(NEO4J_SCHEMES)})")
    kind = store_kind(uri)
    if not create and kind == "embedded":
        require_embedded_store(uri)
    _load(kind)
    if kind == "neo4j":
        options.setdefault("user", os.environ.get("NEO4J_USERNAME", os.environ.get("NEO4J_USER", "neo4j")))
        options.setdefault("password", os.environ.get("NEO4J_PASSWORD", ""))
        options.setdefault("database", os.environ.get("NEO4J_DATABASE") or None)
    return get("store", kind)(uri, **options)


def require_embedded_store(directory: str) -> None:
    """Raise ``StoreNotFound`` unless ``directory`` holds an embedded store (its SQLite file)."""
    path = Path(directory).expanduser().resolve()
    if (path / EMBEDDED_DB_FILE).is_file():
        return
    what = "does not exist" if not path.exists() else ("is not a directory" if not path.is_dir() else "holds no store")
    raise StoreNotFound(
        f"no store at {path} ({what}; a mistyped --store?). Create one with "
        f"`sensegraph import-kg wordnet --store {path}`, then add media with "
        f"`sensegraph ingest MANIFEST --store {path}`"
    )


def _load(kind: str) -> None:
    """Import the store's module so it registers itself (keeps the neo4j driver optional at import)."""
    if kind == "neo4j":
        from . import neo4j_store  # noqa: F401
    else:
        from . import embedded  # noqa: F401
