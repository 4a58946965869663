"""Sizes named once: the chunk every batched store or cache read and write splits its ids into."""
from __future__ import annotations

#: ids (or rows) per SQL statement or Cypher UNWIND: SQLite caps bound parameters per statement
#: (999 in older builds), and Neo4j transactions of vector-carrying rows slow down past a few hundred
CHUNK_ROWS = 500


def chunks(items: list, size: int = CHUNK_ROWS) -> list[list]:
    """``items`` in consecutive slices of at most ``size`` (none for an empty list)."""
    return [items[i : i + size] for i in range(0, len(items), size)]
