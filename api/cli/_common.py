"""What every command shares: the ``--store`` option, the console, and turning errors into exit codes.

Nothing here imports torch: ``sensegraph --help`` and model-free commands start in well under a second.
"""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape

from sensegraph.errors import SenseGraphError

F = TypeVar("F", bound=Callable[..., Any])

PIPE_WIDTH = 4096  # piped output is as wide as its rows: a table never wraps into narrow columns


class _Console(Console):
    """A rich console that wraps to the terminal, and not at all when its output is a pipe or a file."""

    @property
    def size(self) -> ConsoleDimensions:
        if not self.is_terminal:
            return ConsoleDimensions(PIPE_WIDTH, 25)
        return super().size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = _Console()
err_console = _Console(stderr=True)

StoreOption = typer.Option(
    None,
    "--store",
    "-s",
    help="Store: a directory (embedded) or bolt://host:port (Neo4j, credentials from "
    "NEO4J_USERNAME/NEO4J_PASSWORD). Default: $SENSEGRAPH_STORE, else ./sensegraph-data.",
    show_default=False,
)
JsonOption = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")


def handle_errors(fn: F) -> F:
    """Print a ``SenseGraphError`` as one clear line on stderr and exit 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SenseGraphError as exc:
            err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {escape(str(exc))}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def open_graph(store: str | None) -> Any:
    """The ``SenseGraph`` of an existing store: reading commands never create an empty one on a typo."""
    from sensegraph import SenseGraph

    return SenseGraph(store, create=False)


def open_existing_store(store: str | None) -> Any:
    """The raw ``GraphStore`` of an existing store (for commands that load no model)."""
    from sensegraph.graph import open_store

    return open_store(store, create=False)


def require_store(store: str | None) -> str:
    """The resolved URI of ``store`` after checking that it is a store (``StoreNotFound`` if not).

    For ``serve`` and anything else that opens the store later itself: a directory must hold a store,
    a Neo4j URI must answer.
    """
    from sensegraph.config import resolve_store_uri

    uri = resolve_store_uri(store)
    open_existing_store(uri).close()
    return uri


def print_json(data: Any) -> None:
    """JSON on stdout, unadorned (rich would wrap long lines)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None) + "\n")
    sys.stdout.flush()
