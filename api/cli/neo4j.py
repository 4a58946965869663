"""``sensegraph neo4j start|stop|status``: a local Neo4j 2026.08 for machines without Docker.

The work is in ``sensegraph.neo4j_server`` (imported inside each command so ``--help`` stays fast).
"""
from __future__ import annotations

import os

import typer

from . import app
from ._common import JsonOption, console, handle_errors, print_json

DATA_ENV = "SENSEGRAPH_NEO4J_DATA"
DEFAULT_DATA = "./neo4j-data"

neo4j_app = typer.Typer(
    name="neo4j",
    help="Run a local Neo4j 2026.08 (embedded DBMS + Bolt; Java 21+) without Docker: start, stop, status.",
    no_args_is_help=True,
)
app.add_typer(neo4j_app, name="neo4j")

PortOption = typer.Option(7687, "--port", "-p", help="Bolt port on 127.0.0.1.")
DataOption = typer.Option(
    None, "--data", "-d",
    help=f"Data directory (database, pidfile, log). Default: ${DATA_ENV}, else {DEFAULT_DATA}.",
    show_default=False,
)


def _data(data: str | None) -> str:
    return data or os.environ.get(DATA_ENV) or DEFAULT_DATA


def _show(st: object, as_json: bool, verb: str) -> None:
    from sensegraph.neo4j_server import ServerStatus

    assert isinstance(st, ServerStatus)
    if as_json:
        print_json({"state": verb, **st.to_dict()})
    elif st.running:
        took = f" in {st.started_s:.1f} s" if st.started_s is not None else ""
        console.print(f"neo4j {verb}{took}: {st.uri} (pid {st.pid}, data {st.data}, "
                      f"auth {'on' if st.auth else 'off'})", highlight=False, soft_wrap=True)
    else:
        console.print(f"neo4j {verb} (data {st.data})", highlight=False, soft_wrap=True)


@neo4j_app.command("start")
@handle_errors
def start(
    port: int = PortOption,
    data: str = DataOption,
    password: str = typer.Option(
        None, "--password", envvar="NEO4J_PASSWORD",
        help="Enable auth with this password for user neo4j (default: $NEO4J_PASSWORD; none = auth off).",
        show_default=False,
    ),
    heap: str = typer.Option("1g", "--heap", help="JVM heap (-Xmx)."),
    pagecache_mb: int = typer.Option(256, "--pagecache-mb", help="Neo4j page cache in MiB (graph and vector properties)."),
    timeout: float = typer.Option(180.0, "--timeout", help="Seconds to wait for Bolt to answer."),
    as_json: bool = JsonOption,
) -> None:
    """Start Neo4j detached and wait until Bolt answers; says so when it already runs."""
    from sensegraph import neo4j_server

    before = neo4j_server.status(_data(data))
    st = neo4j_server.start(_data(data), port, password=password or None, heap=heap,
                             pagecache_mb=pagecache_mb, timeout=timeout)
    if before.running and st.port != port:
        console.print(f"[yellow]note:[/] already running on port {st.port}, not {port}", highlight=False, soft_wrap=True)
    _show(st, as_json, "already running" if before.running else "started")


@neo4j_app.command("stop")
@handle_errors
def stop(
    data: str = DataOption,
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds to wait after SIGTERM before SIGKILL."),
    as_json: bool = JsonOption,
) -> None:
    """Stop Neo4j cleanly (SIGTERM, wait; SIGKILL with a warning only after --timeout)."""
    from sensegraph import neo4j_server

    before = neo4j_server.status(_data(data))
    st = neo4j_server.stop(_data(data), timeout=timeout)
    _show(st, as_json, "stopped" if before.running else "was not running")


@neo4j_app.command("status")
@handle_errors
def status(data: str = DataOption, as_json: bool = JsonOption) -> None:
    """Say whether Neo4j runs for the data directory, with pid and port."""
    from sensegraph import neo4j_server

    st = neo4j_server.status(_data(data))
    _show(st, as_json, "running" if st.running else "stopped")
    if not st.running:
        raise typer.Exit(3)
