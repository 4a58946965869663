"""``sensegraph config`` and ``sensegraph version``: what is configured, without loading a model."""
from __future__ import annotations

import typer

from . import app
from ._common import StoreOption, console, handle_errors, open_existing_store


@app.command("version")
def version() -> None:
    """Print the sensegraph version."""
    from sensegraph import __version__

    console.print(__version__)


@app.command("config")
@handle_errors
def show_config(store: str = StoreOption) -> None:
    """Show the resolved configuration of a store (defaults merged with its saved values)."""
    from sensegraph.config import build_config, config_from_json
    st = open_existing_store(store)
    try:
        cfg = build_config(config_from_json(st.get_meta("config")))
    finally:
        st.close()
    typer.echo(cfg.to_json())
