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
from rich.console import Console

from sensegraph.errors import SenseGraphError

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)

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
            err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """JSON on stdout, unadorned (rich would wrap long lines)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None) + "\n")
    sys.stdout.flush()
