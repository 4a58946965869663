"""The REST service: a thin FastAPI layer over ``SenseGraph`` (``sensegraph serve``).

Reads are open; writes need ``Authorization: Bearer <token>`` (``service.token`` or
``$SENSEGRAPH_TOKEN``; with no token configured, writes are refused). Bodies over
``service.max_body_bytes`` get 413, clients over ``service.rate_limit_per_minute`` get 429, and
every ``SenseGraphError`` maps to one status in one handler. CORS is off unless origins are configured.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from .errors import (
    AuthError,
    ConfigError,
    EncoderUnavailable,
    NotFound,
    SenseGraphError,
    StoreError,
    ValidationError,
)
from .sensegraph import SenseGraph

MAX_WEIGHT = 1e6  # α, β above this (or inf) overflow the float32 match score into NaN rankings
STATUS = {ValidationError: 422, NotFound: 404, AuthError: 401, EncoderUnavailable: 503, StoreError: 503, ConfigError: 500}


class SearchRequest(BaseModel):
    q: str = Field(min_length=1, max_length=10_000)
    k: int = Field(10, ge=1, le=1000)
    alpha: float | None = Field(None, ge=0, le=MAX_WEIGHT)
    beta: float | None = Field(None, ge=0, le=MAX_WEIGHT)
    threshold: float | None = Field(None, allow_inf_nan=False)
    senses: dict[str, str] | None = Field(None, description="pin MENTION → SENSE_ID")
    filters: dict[str, Any] | None = None


class LinkRequest(BaseModel):
    text: str = Field(max_length=1_000_000)


class UploadRecord(BaseModel):
    data: str = Field(description="the medium's bytes, base64")
    filename: str = Field("upload.jpg", max_length=255)
    text: str | None = Field(None, max_length=20_000)
    id: str | None = Field(None, max_length=200)


class IngestRequest(BaseModel):
    records: list[UploadRecord] = Field(min_length=1, max_length=256)


class RateLimiter:
    """A sliding one-minute window per client address."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self.lock:
            q = self.hits[client]
            while q and now - q[0] > 60.0:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(now)
            return True


class BodyLimit:
    """ASGI middleware: 413 once a request body passes ``limit`` bytes, also when it is streamed
    (chunked, no Content-Length), so a client cannot make the service buffer an unbounded body."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen, refused, started = 0, False, False

        async def limited_receive() -> dict:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True
                    if not started:
                        response = JSONResponse({"error": "PayloadTooLarge", "detail": f"body over {self.limit} bytes"},
                                                status_code=413)
                        await response(scope, receive, send)
                    return {"type": "http.disconnect"}  # the app stops reading; its answer is dropped
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


def create_app(sg: SenseGraph | None = None, *, store: str | None = None) -> FastAPI:
    """The FastAPI application over one ``SenseGraph`` (opened from ``store`` when not given)."""
    sg = sg or SenseGraph(store)
    cfg = sg.config.service
    lock = threading.RLock()  # stores and models are used from one thread at a time
    limiter = RateLimiter(cfg.rate_limit_per_minute)
    app = FastAPI(title="sensegraph", version="0.1.0", description=__doc__)
    app.state.sg, app.state.lock = sg, lock

    if cfg.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cfg.cors_origins, allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])

    @app.middleware("http")
    async def limits(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > cfg.max_body_bytes):
            return JSONResponse({"error": "PayloadTooLarge", "detail": f"body over {cfg.max_body_bytes} bytes"}, status_code=413)
        client = request.client.host if request.client else "?"
        if not limiter.allow(client):
            return JSONResponse({"error": "TooManyRequests", "detail": "rate limit exceeded"}, status_code=429, headers={"Retry-After": "60"})
        return await call_next(request)

    app.add_middleware(BodyLimit, limit=cfg.max_body_bytes)  # outermost: counts streamed bodies too

    @app.exception_handler(SenseGraphError)
    async def sg_error(_: Request, exc: SenseGraphError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status, headers=headers)

    def require_token(request: Request) -> str:
        expected = sg.config.service.token
        if not expected:
            raise AuthError("writes are disabled: no service token configured (set SENSEGRAPH_TOKEN)")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthError("a valid bearer token is required for writes")
        return "token"

    app.state.require_token = require_token

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "store": sg.store.name}

    @app.get("/config")
    def config() -> dict[str, Any]:
        return sg.config.model_dump(exclude={"service": {"token"}})

    @app.get("/stats")
    def stats() -> dict[str, Any]:
        with lock:
            return sg.stats()

    @app.get("/search")
    def search_get(q: str = Query(..., min_length=1, max_length=10_000), k: int = Query(10, ge=1, le=1000),
                   alpha: float | None = Query(None, ge=0, le=MAX_WEIGHT), beta: float | None = Query(None, ge=0, le=MAX_WEIGHT),
                   threshold: float | None = Query(None, allow_inf_nan=False)) -> dict[str, Any]:
        return search_post(SearchRequest(q=q, k=k, alpha=alpha, beta=beta, threshold=threshold))

    @app.post("/search")
    def search_post(req: SearchRequest) -> dict[str, Any]:
        with lock:
            result = sg.search_result(req.q, req.k, alpha=req.alpha, beta=req.beta, threshold=req.threshold,
                                      senses=req.senses, filters=req.filters)
        return {**result.to_dict(), "metadata": result.metadata}

    @app.post("/link")
    def link(req: LinkRequest) -> dict[str, Any]:
        with lock:
            return {"mentions": [m.to_dict() for m in sg.link(req.text)]}

    @app.get("/senses")
    def find_senses(q: str = Query(..., min_length=1, max_length=200), limit: int = Query(20, ge=1, le=200)) -> list[dict[str, Any]]:
        with lock:
            return [{"sense_id": s.sense_id, "label": s.label, "gloss": s.gloss, "media_count": s.media_count}
                    for s in sg.store.find_senses(q, limit)]

    @app.get("/senses/{sense_id}")
    def get_sense(sense_id: str) -> dict[str, Any]:
        with lock:
            return sg.sense(sense_id).model_dump()

    @app.get("/media/{media_id}")
    def get_media(media_id: str) -> dict[str, Any]:
        with lock:
            m = sg.store.get_media([media_id], vectors=False).get(media_id)
            if m is None:
                raise NotFound(f"no medium with id {media_id!r}")
            ev = sg.store.evidence(media_id=media_id)
        return {"media_id": m.media_id, "uri": m.uri, "modality": m.modality, "sha256": m.sha256, "caption": m.caption,
                "metadata": m.metadata,
                "senses": [{"sense_id": e.sense_id, "confidence": e.confidence, "source": e.source, "detached": e.detached} for e in ev]}

    @app.get("/media/{media_id}/content")
    def media_content(media_id: str) -> FileResponse:
        with lock:
            m = sg.store.get_media([media_id], vectors=False).get(media_id)
        if m is None or not Path(m.uri).is_file():
            raise NotFound(f"no local content for medium {media_id!r}")
        return FileResponse(m.uri)

    @app.get("/recommend/{media_id}")
    def recommend(media_id: str, k: int = Query(10, ge=1, le=1000)) -> dict[str, Any]:
        with lock:
            return sg.engine.recommend(media_id, k).to_dict()

    @app.post("/ingest")
    def ingest(req: IngestRequest, _: str = Depends(require_token)) -> dict[str, Any]:
        records = [{"media": str(_save_upload(sg, r)), "text": r.text, **({"id": r.id} if r.id else {})} for r in req.records]
        with lock:
            return sg.ingest(records).model_dump()

    from .editor import mount_editor  # the editorial web tool under /editor, same process and port

    mount_editor(app)
    return app


def upload_dir(sg: SenseGraph) -> Path:
    """Where uploaded media are kept: beside an embedded store, else the user's cache."""
    return sg._cache_dir().parent / "uploads"


def _save_upload(sg: SenseGraph, rec: UploadRecord) -> Path:
    """Decode and store an uploaded medium under a content-addressed name (never the client's path)."""
    import hashlib

    try:
        data = base64.b64decode(rec.data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"record {rec.filename!r}: data is not valid base64") from None
    if not data:
        raise ValidationError(f"record {rec.filename!r}: data is empty")
    suffix = Path(rec.filename).suffix.lower()
    if not suffix.isascii() or not suffix[1:].isalnum() or len(suffix) > 6:
        suffix = ".bin"
    target = upload_dir(sg) / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target
