"""The REST service: a thin FastAPI layer over ``SenseGraph`` (``sensegraph serve``).

Reads are open; writes need ``Authorization: Bearer <token>`` (``service.token`` or
``$SENSEGRAPH_TOKEN``; with no token configured, writes are refused). Bodies over
``service.max_body_bytes`` get 413, clients over ``service.rate_limit_per_minute`` get 429, and
every ``SenseGraphError`` maps to one status in one handler; every error is ``{"error", "detail"}``.
No request freezes the others: reads, linking and ingests share the models and the store
concurrently, and each kind of request has a size limit and a time budget (``service_guard``).
The query text is ``q`` everywhere (``/search``, ``/link``, ``/senses``). CORS is off unless
origins are configured.
"""
from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from .errors import (
    AuthError,
    ConfigError,
    EncoderUnavailable,
    NotFound,
    SenseGraphError,
    StoreError,
    ValidationError,
)
from .config import SenseGraphConfig
from .sensegraph import SenseGraph
from .service_models import (
    ErrorBody,
    HealthResponse,
    IngestReport,
    LinkResponse,
    MediaResponse,
    SearchResponse,
    SenseSummary,
    SenseView,
    StatsResponse,
)
from .service_guard import Budget, ReadOnlyRequests, ServiceBusy, ServiceLock
from .service_http import SecurityHeaders, error_body, install_docs, install_error_handlers
from .service_media import content_headers, decode_upload, ingest_uploads, public_uri, sniff_file, store_upload, upload_dir

__all__ = ["STATUS", "UploadRecord", "create_app", "upload_dir"]

MAX_WEIGHT = 1e6  # α, β above this (or inf) overflow the float32 match score into NaN rankings
STATUS = {ValidationError: 422, NotFound: 404, AuthError: 401, EncoderUnavailable: 503, StoreError: 503, ServiceBusy: 503,
          ConfigError: 500}
MAX_QUERY_CHARS = 500  # a search query (linked too: ~1 s here at the limit); a longer text is a document
MAX_LINK_CHARS = 5_000  # ~10 s of linking on a loaded 2-core machine; a long document is a batch job (`sensegraph link`)
MAX_CAPTION_CHARS = 2_000
MAX_CAPTION_CHARS_PER_REQUEST = 20_000
MAX_RECORDS = 64
# every answer is checked against its declared model and sent as before (absent fields stay absent);
# errors are documented as the one {"error", "detail"} body
ANSWER: dict[str, Any] = {"response_model_exclude_unset": True,
                          "responses": {s: {"model": ErrorBody} for s in (401, 404, 413, 422, 429, 503)}}


class SearchRequest(BaseModel):
    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(10, ge=1, le=1000)
    alpha: float | None = Field(None, ge=0, le=MAX_WEIGHT)
    beta: float | None = Field(None, ge=0, le=MAX_WEIGHT)
    threshold: Annotated[float, Field(allow_inf_nan=False)] | Literal["auto"] | None = Field(
        None, description="keep hits scoring at least this (the head's score when it re-ranks), or 'auto': the calibrated no-match threshold")
    senses: dict[str, str] | None = Field(None, description="pin MENTION → SENSE_ID")
    filters: dict[str, Any] | None = None
    modality: str | None = Field(None, description="only media of this modality: image, video or audio (default: all, mixed)")


class LinkRequest(BaseModel):
    q: str = Field(min_length=1, max_length=MAX_LINK_CHARS, description=f"the text to link, at most {MAX_LINK_CHARS} characters")


class UploadRecord(BaseModel):
    data: str = Field(description="the medium's bytes, base64")
    filename: str = Field("upload.jpg", max_length=255)
    text: str | None = Field(None, max_length=MAX_CAPTION_CHARS, description="the caption")
    id: str | None = Field(None, max_length=200)


class IngestRequest(BaseModel):
    records: list[UploadRecord] = Field(min_length=1, max_length=MAX_RECORDS)


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
    lock = ServiceLock()  # shared: reads, linking, ingest; exclusive (``with lock:``): edits of the linker's tables
    budgets = {"search": Budget("search", 16, 10.0, 30.0), "link": Budget("link", 2, 2.0, 30.0),
               "ingest": Budget("ingest", 1, 30.0)}
    limiter = RateLimiter(cfg.rate_limit_per_minute)
    app = FastAPI(title="sensegraph", version="0.1.0", description=__doc__, docs_url=None, redoc_url=None)
    app.state.sg, app.state.lock, app.state.budgets = sg, lock, budgets
    warmed: dict[str, Any] = {}

    if cfg.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cfg.cors_origins, allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])

    @app.middleware("http")
    async def limits(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > cfg.max_body_bytes):
            return JSONResponse(error_body("PayloadTooLarge", f"body over {cfg.max_body_bytes} bytes"), status_code=413)
        client = request.client.host if request.client else "?"
        if not limiter.allow(client):
            return JSONResponse(error_body("TooManyRequests", "rate limit exceeded"), status_code=429, headers={"Retry-After": "60"})
        return await call_next(request)

    app.add_middleware(BodyLimit, limit=cfg.max_body_bytes)  # counts streamed bodies too
    app.add_middleware(ReadOnlyRequests)  # GET/HEAD: ``with lock:`` in a page handler is taken shared
    app.add_middleware(SecurityHeaders)  # outermost: every answer, 413s and errors included, gets the headers
    install_error_handlers(app)
    install_docs(app)

    @app.exception_handler(SenseGraphError)
    async def sg_error(_: Request, exc: SenseGraphError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {"Retry-After": "5"} if status == 503 else None
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=status, headers=headers)

    def require_token(request: Request) -> str:
        expected = sg.config.service.token
        if not expected:
            raise AuthError("writes are disabled: no service token configured (set SENSEGRAPH_TOKEN)")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthError("a valid bearer token is required for writes")
        return "token"

    app.state.require_token = require_token

    def ensure_models() -> None:
        """Build the encoder and the linker's tables once, exclusively, before concurrent requests use them."""
        linker = sg.built_part("linker")
        if linker is not None and warmed.get("linker") is linker:
            return
        with lock.exclusive():
            linker = sg.linker
            if warmed.get("linker") is not linker:
                sg.link("warm up")  # lexicon, detector, candidates, disambiguator, text encoder
                _ = sg.engine
                warmed["linker"] = linker

    def shared(fn: Any, *args: Any) -> Any:
        ensure_models()
        with lock.shared():
            return fn(*args)

    @app.get("/health", response_model=HealthResponse)
    def health() -> dict[str, Any]:
        return {"status": "ok", "store": sg.store.name}

    @app.get("/config", response_model=SenseGraphConfig, **ANSWER)
    def config() -> dict[str, Any]:
        return sg.config.model_dump(exclude={"service": {"token"}})

    @app.get("/stats", response_model=StatsResponse, **ANSWER)
    def stats() -> dict[str, Any]:
        with lock.shared():
            return sg.stats()

    @app.get("/search", response_model=SearchResponse, **ANSWER)
    async def search_get(q: str = Query(..., min_length=1, max_length=MAX_QUERY_CHARS), k: int = Query(10, ge=1, le=1000),
                         alpha: float | None = Query(None, ge=0, le=MAX_WEIGHT), beta: float | None = Query(None, ge=0, le=MAX_WEIGHT),
                         modality: str | None = Query(None, description="image, video or audio (default: all, mixed)"),
                         threshold: str | None = Query(None, description="a number, or auto")) -> dict[str, Any]:
        try:  # the same model as POST /search, so a bad threshold ('nan', a word) is a 422 here too
            req = SearchRequest(q=q, k=k, alpha=alpha, beta=beta, threshold=threshold, modality=modality)
        except PydanticValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None
        return await search_post(req)

    @app.post("/search", response_model=SearchResponse, **ANSWER)
    async def search_post(req: SearchRequest) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            result = sg.search_result(req.q, req.k, alpha=req.alpha, beta=req.beta, threshold=req.threshold,
                                      senses=req.senses, filters=req.filters, modality=req.modality)
            body = {**result.to_dict(), "metadata": result.metadata}
            for hit in body["results"]:
                hit["uri"] = public_uri(sg, hit.get("uri"))
            return body

        return await budgets["search"].run(shared, run)

    @app.post("/link", response_model=LinkResponse, **ANSWER)
    async def link(req: LinkRequest) -> dict[str, Any]:
        return await budgets["link"].run(shared, lambda: {"mentions": [m.to_dict() for m in sg.link(req.q)]})

    @app.get("/senses", response_model=list[SenseSummary], **ANSWER)
    def find_senses(q: str = Query(..., min_length=1, max_length=200), limit: int = Query(20, ge=1, le=200)) -> list[dict[str, Any]]:
        with lock.shared():
            return [{"sense_id": s.sense_id, "label": s.label, "gloss": s.gloss, "media_count": s.media_count}
                    for s in sg.store.find_senses(q, limit)]

    @app.get("/senses/{sense_id}", response_model=SenseView, **ANSWER)
    def get_sense(sense_id: str) -> dict[str, Any]:
        with lock.shared():
            view = sg.sense(sense_id).model_dump()
        for e in view.get("evidence", []):
            e["uri"] = public_uri(sg, e.get("uri"))
            e["content_url"] = content_url(e["media_id"])
        return view

    @app.get("/media/{media_id}", response_model=MediaResponse, **ANSWER)
    def get_media(media_id: str) -> dict[str, Any]:
        with lock.shared():
            m = sg.store.get_media([media_id], vectors=False).get(media_id)
            if m is None:
                raise NotFound(f"no medium with id {media_id!r}")
            ev = sg.store.evidence(media_id=media_id)
        return {"media_id": m.media_id, "uri": public_uri(sg, m.uri), "content_url": content_url(m.media_id),
                "modality": m.modality, "sha256": m.sha256, "caption": m.caption, "metadata": m.metadata,
                "senses": [{"sense_id": e.sense_id, "confidence": e.confidence, "source": e.source, "detached": e.detached} for e in ev]}

    @app.get("/media/{media_id}/content")
    def media_content(media_id: str) -> FileResponse:
        with lock.shared():
            m = sg.store.get_media([media_id], vectors=False).get(media_id)
        if m is None or "://" in m.uri or not Path(m.uri).is_file():
            raise NotFound(f"no local content for medium {media_id!r}")
        ctype, headers = content_headers(m.media_id, sniff_file(Path(m.uri)))
        return FileResponse(m.uri, media_type=ctype, headers=headers)

    @app.get("/recommend/{media_id}", response_model=SearchResponse, **ANSWER)
    def recommend(media_id: str, k: int = Query(10, ge=1, le=1000)) -> dict[str, Any]:
        body = shared(lambda: sg.engine.recommend(media_id, k).to_dict())
        for hit in body.get("results", []):
            hit["uri"] = public_uri(sg, hit.get("uri"))
        return body

    @app.post("/ingest", response_model=IngestReport, **ANSWER)
    async def ingest(req: IngestRequest, _: str = Depends(require_token)) -> dict[str, Any]:
        captions = sum(len(r.text or "") for r in req.records)
        if captions > MAX_CAPTION_CHARS_PER_REQUEST:
            raise ValidationError(f"captions total {captions} characters; one request takes at most "
                                  f"{MAX_CAPTION_CHARS_PER_REQUEST} (send fewer records per request)")
        uploads = [decode_upload(r.data, r.filename) for r in req.records]  # all checked before any byte is stored
        items = [(up, r.text, r.id) for r, up in zip(req.records, uploads)]
        report = await budgets["ingest"].run(shared, lambda: ingest_uploads(sg, items))
        if req.records and not report["ingested"] and not report["already_present"]:
            # as `sensegraph ingest` exits 1: nothing went in is an error, with the report for the reasons
            reasons = "; ".join(f"{s['ref']}: {s['reason']}" for s in report["skipped"][:3])
            detail = f"all {len(report['skipped'])} records were skipped ({reasons})"
            return JSONResponse({**error_body("NothingIngested", detail), **report}, status_code=422)
        return report

    from .editor import mount_editor  # the editorial web tool under /editor, same process and port

    mount_editor(app)
    return app


def content_url(media_id: str) -> str:
    from urllib.parse import quote

    return f"/media/{quote(media_id, safe='')}/content"


def _save_upload(sg: SenseGraph, rec: UploadRecord) -> Path:
    """Decode and store one uploaded medium as ``<sha256><decoded extension>`` (never the client's name)."""
    return store_upload(sg, decode_upload(rec.data, rec.filename))[0]
