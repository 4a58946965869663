"""HTTP hygiene for the REST service: one error shape, security headers on every response, offline docs.

* Every error is ``{"error": NAME, "detail": TEXT}`` — validation (422), unknown routes (404), wrong
  methods (405), 413, 429, 503 and unexpected 500s alike (a 500 shows no traceback).
* Every response carries ``nosniff``, ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``;
  HTML pages also get a CSP that allows only this origin's scripts and styles (inline ``style=``
  attributes excepted: the editor colours plot points with them), no frames, no plugins, forms to
  this origin only. A response that sets its own CSP (served media) keeps it.
* ``/docs`` is Swagger UI from the ``fastapi-offline`` package's files, served here, with its
  start-up script as a file too, so it renders with no internet and under that CSP.
"""
from __future__ import annotations

import logging
import re
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import field_errors

HTML_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))
DOCS_ASSETS = "/docs-assets"

log = logging.getLogger("sensegraph.service")


def error_body(name: str, detail: Any) -> dict[str, Any]:
    return {"error": name, "detail": detail}


def status_name(status: int) -> str:
    """``404`` → ``NotFound``, ``405`` → ``MethodNotAllowed`` (the HTTP phrase in CamelCase)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP{status}"
    return "".join(w.capitalize() for w in re.split(r"[^A-Za-z]+", phrase) if w)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    return [{"field": f, "message": m} for f, m in field_errors(exc.errors(), skip=("body",), default="body")]


def install_error_handlers(app: FastAPI) -> None:
    """Validation, HTTP and unexpected errors in the one shape (``SenseGraphError`` has its own handler)."""

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc)
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "invalid request"
        return JSONResponse({**error_body("ValidationError", detail), "fields": fields}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail, path = exc.detail, quote(request.url.path)  # quoted: a path is never echoed as markup
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {path} (the routes are listed at /docs)"
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {path}"
        return JSONResponse(error_body(status_name(exc.status_code), detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        headers = {k.decode(): v.decode() for k, v in ALWAYS} | {"Content-Security-Policy": API_CSP}  # answered outside SecurityHeaders
        return JSONResponse(error_body("InternalError", "the service failed on this request; see its log"), status_code=500,
                            headers=headers)


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response (outermost, so errors get them too)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                for name, value in ALWAYS:
                    if name not in have:
                        headers.append((name, value))
                if b"content-security-policy" not in have:
                    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                    headers.append((b"content-security-policy", HTML_CSP.encode() if ctype.startswith(b"text/html") else API_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def swagger_static() -> Path:
    """The Swagger UI files the ``fastapi-offline`` package ships (no CDN)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"><link rel="icon" href="{assets}/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script><script src="/docs-init.js"></script></body></html>
"""
DOCS_INIT = """window.ui = SwaggerUIBundle({{url: "{openapi}", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset], layout: "BaseLayout"}});
"""


def install_docs(app: FastAPI) -> None:
    """``/docs`` from local files (create the app with ``docs_url=None, redoc_url=None``)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_static()), name="docs-assets")
    page = DOCS_PAGE.format(title=app.title, assets=DOCS_ASSETS)
    init = DOCS_INIT.format(openapi=app.openapi_url)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs-init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(init, media_type="text/javascript")


class DropQueryString(logging.Filter):
    """Access-log filter: ``GET /search?q=…&token=…`` is logged as ``GET /search`` (no query strings in logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def access_log_config() -> dict[str, Any]:
    """uvicorn's default logging config with ``DropQueryString`` on the access log."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    cfg = copy.deepcopy(LOGGING_CONFIG)
    cfg.setdefault("filters", {})["drop_query"] = {"()": "sensegraph.service_http.DropQueryString"}
    cfg["handlers"]["access"]["filters"] = ["drop_query"]
    return cfg
