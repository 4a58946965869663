"""The ``sensegraph`` command: a thin layer over ``SenseGraph``; each group lives in its own module."""
from __future__ import annotations

import typer

app = typer.Typer(
    name="sensegraph",
    help="Sense-aware cross-modal retrieval over a knowledge graph (Neo4j or embedded).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Command modules register themselves on ``app``; importing them must stay torch-free.
from . import calibrate, demo, edit, eval, gnn, info, ingest, inspect, kg, link, matcher, neo4j, query, serve  # noqa: E402,F401

__all__ = ["app"]
