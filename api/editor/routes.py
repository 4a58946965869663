"""The editor's pages and form handlers under ``/editor``: server-rendered Jinja2, Post/Redirect/Get.

Reads are open like the REST service's; every POST goes through ``security.writer`` (session cookie
plus the CSRF token bound to it, or a bearer header) and then one ``Curator`` operation under the
service lock. Pages use no inline script or style, so a strict CSP (``script-src 'self'``) holds.
Errors render as an HTML page with the status the REST service would use.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from sensegraph.errors import AuthError, NotFound, SenseGraphError, ValidationError
from sensegraph.graph import sense_finder

from . import security, views

HERE = Path(__file__).parent
PREFIX = "/editor"
MAX_UPLOAD_BYTES = 16_000_000
UPLOAD_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp"}
FINDER_LIMIT = 50


class PayloadTooLarge(ValidationError):
    """An upload over the editor's size cap."""


def _status(exc: SenseGraphError) -> int:
    from sensegraph.service import STATUS

    if isinstance(exc, security.CsrfError):
        return 403
    if isinstance(exc, PayloadTooLarge):
        return 413
    return next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)


def make_env() -> Environment:
    """Jinja2 with autoescaping on for every template (a gloss with <script> renders as text)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * float(v):.0f}%"
    env.filters["num"] = lambda v, d=3: "—" if v is None else f"{float(v):.{d}f}"
    env.filters["q"] = lambda v: quote(str(v), safe="")
    return env


def safe_next(target: str | None, default: str) -> str:
    """Only same-site editor paths are followed after a form (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def mount_editor(app: FastAPI) -> None:
    """Add the editor's routes and static files to the service ``app`` (one process, one port)."""
    app.include_router(create_router(app))
    app.mount(PREFIX + "/static", StaticFiles(directory=HERE / "static"), name="editor-static")


def create_router(app: FastAPI) -> APIRouter:  # noqa: C901 - one closure per page keeps the routes readable
    sg, lock = app.state.sg, app.state.lock
    env = make_env()
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    def token() -> str | None:
        return sg.config.service.token

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        csrf, nonce = security.page_csrf(request, token())
        html = env.get_template(name).render(
            csrf=csrf, user=security.session_user(request, token()), writes_enabled=bool(token()),
            store=sg.store.name, path=request.url.path, msg=request.query_params.get("msg"),
            done=request.query_params.get("audit"), **ctx,
        )
        resp = HTMLResponse(html, status_code=status)
        if nonce:
            security.set_nonce(request, resp, nonce)
        return resp

    def html_errors(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def wrapper(request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                return fn(request, *args, **kwargs)
            except SenseGraphError as exc:
                status = _status(exc)
                return render(request, "error.html", status, error=type(exc).__name__, detail=str(exc),
                              login=isinstance(exc, AuthError), code=status)
        return wrapper

    def done(path: str, msg: str, audit_id: str | None = None) -> RedirectResponse:
        params = {"msg": msg, **({"audit": audit_id} if audit_id else {})}
        path = path.split("#")[0]
        base, _, query = path.partition("?")
        kept = "&".join(p for p in query.split("&") if p and not p.startswith(("msg=", "audit=")))
        return RedirectResponse(f"{base}?{kept + '&' if kept else ''}{urlencode(params)}", status_code=303)

    def named(sid: str) -> str:
        """A sense as a flash message names it: "label (id)", so the curator sees which one."""
        with lock:
            s = sg.store.get_senses([sid]).get(sid)
        return f"{s.label} ({sid})" if s is not None and s.label and s.label != sid else sid

    def sense_url(sid: str) -> str:
        return f"{PREFIX}/sense/{quote(sid, safe='')}"

    # -- pages ------------------------------------------------------------------------------------
    @router.get("", response_class=HTMLResponse)
    @router.get("/", response_class=HTMLResponse)
    @html_errors
    def home(request: Request) -> Response:
        with lock:
            counts = sg.store.counts()
            recent = views.audit_rows(sg.store, sg.store.audit_log(limit=10))
        return render(request, "home.html", counts=counts, recent=recent)

    @router.get("/senses", response_class=HTMLResponse)
    @html_errors
    def find_senses(request: Request, q: str = Query("", max_length=200), media: bool = Query(False)) -> Response:
        with lock:
            page = views.finder_page(sg.store, q, FINDER_LIMIT, media)
        return render(request, "senses.html", q=q, **page)

    @router.get("/senses.json")
    def sense_options(q: str = Query("", max_length=200), limit: int = Query(10, ge=1, le=50)) -> Response:
        """The autocomplete's source: the finder's best matches as id, label, short gloss, media count."""
        with lock:
            found = sense_finder.find(sg.store, q, limit)
        return JSONResponse({"q": q, "total": found.total, "senses": [
            {"sense_id": s.sense_id, "label": s.label, "gloss": views.short_gloss(s.gloss), "media_count": s.media_count,
             "redirect_to": s.redirect_to} for s in found.senses]})

    @router.get("/search", response_class=HTMLResponse)
    @html_errors
    def search(request: Request, q: str = Query("", max_length=2000), k: int = Query(10, ge=1, le=50)) -> Response:
        if not q.strip():
            return render(request, "search.html", q="", result=None)
        with lock:
            result = views.search_page(sg, q, k)
        return render(request, "search.html", q=q, result=result)

    @router.get("/sense/{sense_id}", response_class=HTMLResponse)
    @html_errors
    def sense(request: Request, sense_id: str) -> Response:
        with lock:
            page = views.sense_page(sg, sense_id)
        return render(request, "sense.html", **page)

    @router.get("/media/{media_id}", response_class=HTMLResponse)
    @html_errors
    def media(request: Request, media_id: str) -> Response:
        with lock:
            page = views.media_page(sg, media_id)
        return render(request, "media.html", **page)

    @router.get("/audit", response_class=HTMLResponse)
    @html_errors
    def audit(request: Request, sense: str | None = Query(None, max_length=200)) -> Response:
        with lock:
            entries = views.audit_rows(sg.store, sg.store.audit_log(sense_id=sense or None, limit=200))
            refs = views.sense_refs(sg.store, [sense])
        return render(request, "audit.html", entries=entries, sense_id=sense, sense_info=refs.get(sense or ""))

    @router.get("/gated", response_class=HTMLResponse)
    @html_errors
    def gated(request: Request) -> Response:
        """Caption links the ingest gate held back (weak evidence), for a curator to pin or detach."""
        with lock:
            edges = sorted(sg.gated_evidence(), key=lambda e: (e.confidence, e.sense_id, e.media_id))[:500]
            refs = views.sense_refs(sg.store, [e.sense_id for e in edges])
            total = len(sg.gated_evidence()) if len(edges) == 500 else len(edges)
        return render(request, "gated.html", edges=edges, refs=refs, total=total)

    # -- login ------------------------------------------------------------------------------------
    @router.get("/login", response_class=HTMLResponse)
    @html_errors
    def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
        return render(request, "login.html", next=safe_next(next, PREFIX + "/"), error=None)

    @router.post("/login")
    @html_errors
    def login(request: Request, token_: str = Form("", alias="token", max_length=1000), name: str = Form("", max_length=80),
              csrf: str = Form(""), next: str = Form("")) -> Response:  # noqa: A002
        if not token():
            raise AuthError("writes are disabled: no service token configured (set SENSEGRAPH_TOKEN)")
        security.check_csrf(request, token(), csrf)
        try:
            security.check_token(token_, token())
        except AuthError as exc:
            return render(request, "login.html", 401, next=safe_next(next, PREFIX + "/"), error=str(exc))
        user = name.strip() or "editor"
        resp = RedirectResponse(safe_next(next, PREFIX + "/"), status_code=303)
        security.set_session(request, resp, token() or "", user)
        return resp

    @router.post("/logout")
    @html_errors
    def logout(request: Request, csrf: str = Form("")) -> Response:
        if security.session_user(request, token()) is not None:  # a cross-site post cannot end the session
            security.check_csrf(request, token(), csrf)
        resp = RedirectResponse(PREFIX + "/", status_code=303)
        security.clear_session(request, resp)
        return resp

    # -- edits --------------------------------------------------------------------------------------
    def curator(request: Request, csrf: str) -> Any:
        from sensegraph.curation import Curator

        return Curator(sg, security.writer(request, token(), csrf))

    def edge_route(action: str, said: str) -> None:
        """``POST /sense/{id}/attach`` and ``/detach``: one medium's evidence edge, by the curator's method of that name."""

        @router.post(f"/sense/{{sense_id}}/{action}", name=action)
        @html_errors
        def edit_edge(request: Request, sense_id: str, media_id: str = Form(..., max_length=200), csrf: str = Form(""),
                      next: str = Form("")) -> Response:  # noqa: A002
            with lock:
                entry = getattr(curator(request, csrf), action)(media_id, sense_id)
            return done(safe_next(next, sense_url(sense_id)), said.format(media_id, named(sense_id)), entry.audit_id)

    edge_route("attach", "attached {} to {}")
    edge_route("detach", "detached {} from {}")

    @router.post("/sense/{sense_id}/move")
    @html_errors
    def move(request: Request, sense_id: str, to: str = Form("", max_length=200), media_ids: list[str] = Form([]),
             csrf: str = Form("")) -> Response:
        with lock:
            c = curator(request, csrf)
            target = sg.store.resolve(views.pick_sense(sg.store, to))
            entry = c.move_evidence(media_ids, sense_id, target)
        return done(sense_url(sense_id), f"moved {len(media_ids)} medium/media to {named(target)}", entry.audit_id)

    @router.post("/sense/{sense_id}/split")
    @html_errors
    def split(request: Request, sense_id: str, new_id: str = Form("", max_length=200), label: str = Form("", max_length=400),
              gloss: str = Form("", max_length=10_000), cluster: str = Form(""), media_ids: list[str] = Form([]),
              csrf: str = Form("")) -> Response:
        if cluster.strip() and not cluster.strip().isdigit():
            raise ValidationError(f"cluster must be a number, got {cluster!r}")
        chosen = int(cluster) if cluster.strip() else None
        with lock:
            entry = curator(request, csrf).split_sense(
                sense_id, new_id, label, gloss, media_ids=None if chosen is not None else media_ids, cluster=chosen)
        new = entry.sense_ids[1]
        return done(sense_url(new), f"split {named(sense_id)}: new sense {named(new)}", entry.audit_id)

    @router.post("/sense/{sense_id}/merge")
    @html_errors
    def merge(request: Request, sense_id: str, other: str = Form("", max_length=200), csrf: str = Form("")) -> Response:
        with lock:
            c = curator(request, csrf)
            drop = views.pick_sense(sg.store, other)
            entry = c.merge_senses(sense_id, drop)
        return done(sense_url(sense_id), f"merged {named(drop)} into {named(sense_id)}", entry.audit_id)

    @router.post("/sense/{sense_id}/edit")
    @html_errors
    def edit(request: Request, sense_id: str, label: str = Form("", max_length=400), gloss: str = Form("", max_length=10_000),
             aliases: str = Form("", max_length=2000), csrf: str = Form("")) -> Response:
        new_aliases = [a.strip() for a in aliases.replace("\n", ",").split(",") if a.strip()]
        with lock:
            entry = curator(request, csrf).edit_sense(sense_id, label=label, gloss=gloss, add_aliases=new_aliases)
        return done(sense_url(sense_id), f"edited {named(sense_id)}", entry.audit_id)

    @router.post("/sense/{sense_id}/upload")
    @html_errors
    def upload(request: Request, sense_id: str, file: UploadFile = File(...), caption: str = Form("", max_length=20_000),
               csrf: str = Form("")) -> Response:
        c = curator(request, csrf)  # refuse before storing anything
        cap = int(getattr(app.state, "editor_max_upload", MAX_UPLOAD_BYTES))
        data = file.file.read(cap + 1)
        if len(data) > cap:
            raise PayloadTooLarge(f"upload {file.filename!r} is over the {cap:,}-byte limit")
        if not data:
            raise ValidationError(f"upload {file.filename!r} is empty")
        suffix = Path(file.filename or "").suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise ValidationError(f"upload {file.filename!r}: expected one of {', '.join(sorted(UPLOAD_SUFFIXES))}")
        from sensegraph.service_media import check_upload, ingest_uploads

        up = check_upload(data, file.filename or "upload")  # kept by its decoded format; a refusal leaves no file
        with lock.shared():  # the ingest (decode, embed, link) runs beside searches, not exclusively
            c._sense(sense_id)
            report = ingest_uploads(sg, [(up, caption.strip() or None, None)])
        if report["skipped"]:
            raise ValidationError(f"upload {file.filename!r} was not ingested: {report['skipped'][0]['reason']}")
        m = sg.store.media_by_sha256(up.sha256)
        if m is None:
            raise NotFound(f"upload {file.filename!r} vanished after ingest")
        with lock:
            entry = c.attach(m.media_id, sense_id)
        return done(sense_url(sense_id), f"uploaded {m.media_id} and attached it", entry.audit_id)

    @router.post("/media/{media_id}/attach")
    @html_errors
    def attach_to(request: Request, media_id: str, sense_id: str = Form("", max_length=200), csrf: str = Form("")) -> Response:
        with lock:
            c = curator(request, csrf)
            target = views.pick_sense(sg.store, sense_id)
            entry = c.attach(media_id, target)
        return done(f"{PREFIX}/media/{quote(media_id, safe='')}", f"attached {media_id} to {named(target)}", entry.audit_id)

    @router.post("/media/{media_id}/pin")
    @html_errors
    def pin(request: Request, media_id: str, mention: str = Form("", max_length=400), sense_id: str = Form("", max_length=200),
            csrf: str = Form("")) -> Response:
        with lock:
            c = curator(request, csrf)
            target = views.pick_sense(sg.store, sense_id)
            entry = c.pin_mention(media_id, mention, target)
        return done(f"{PREFIX}/media/{quote(media_id, safe='')}", f"pinned {mention!r} to {named(target)}", entry.audit_id)

    @router.get("/audit/{audit_id}/undo", response_class=HTMLResponse)
    @html_errors
    def undo_confirm(request: Request, audit_id: str, next: str | None = None) -> Response:  # noqa: A002
        """Undo asks first: this page shows what the edit did and holds the one button that undoes it."""
        with lock:
            entry = views.audit_entry(sg.store, audit_id)
            rows = views.audit_rows(sg.store, [entry])
        return render(request, "undo.html", entry=entry, rows=rows, plan=views.undo_plan(entry, rows["refs"]),
                      next=safe_next(next, f"{PREFIX}/audit"))

    @router.post("/audit/{audit_id}/undo")
    @html_errors
    def undo(request: Request, audit_id: str, csrf: str = Form(""), next: str = Form("")) -> Response:  # noqa: A002
        with lock:
            entry = curator(request, csrf).undo(audit_id)
        return done(safe_next(next, f"{PREFIX}/audit"), f"undid {entry.action.removeprefix('undo ')}", None)

    return router
