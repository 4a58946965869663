"""``sensegraph serve``: the REST service (and the editor, where installed) on one port."""
from __future__ import annotations

import typer

from . import app
from ._common import StoreOption, handle_errors, require_store


@app.command("serve")
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind (0.0.0.0 in containers)"),
    port: int = typer.Option(8000, min=1, max=65535),
    store: str = StoreOption,
) -> None:
    """Serve /search, /link, /ingest, /senses, /media with OpenAPI docs at /docs."""
    import uvicorn

    from sensegraph.service import create_app
    from sensegraph.service_http import access_log_config

    # the access log drops query strings: a token or a private query sent as ?… never lands in a log
    uvicorn.run(create_app(store=require_store(store)), host=host, port=port, log_level="info",
                log_config=access_log_config())
