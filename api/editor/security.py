"""Editor sessions and CSRF: the service's bearer token, a signed session cookie, tokens bound to it.

* Logging in checks the service token once and sets ``sg_session`` = ``<user>.<issued>.<HMAC>``:
  HttpOnly, SameSite=Strict, scoped to ``/editor``, ``Secure`` over TLS. The token itself never goes
  into a cookie, and changing the token ends every session.
* CSRF: every form carries ``HMAC(service token, "csrf:" + session cookie)`` (a synchronizer token
  that needs no server state). Before login it is bound to a random ``sg_csrf`` nonce cookie instead.
  A page on another port of the same host can set cookies (cookies do not separate ports, and
  SameSite counts it as the same site) but cannot compute the HMAC, so a tossed cookie forges nothing.
* Scripts may write with ``Authorization: Bearer <token>`` instead; such requests need no CSRF token
  because a browser never adds that header on its own.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from fastapi import Request, Response

from sensegraph.errors import AuthError, SenseGraphError

SESSION_COOKIE = "sg_session"
CSRF_COOKIE = "sg_csrf"
COOKIE_PATH = "/editor"
SESSION_SECONDS = 12 * 3600
_CONTEXT = b"sensegraph-editor-session:"


class CsrfError(SenseGraphError):
    """A form was posted without the page's CSRF token (or with another one)."""


def _sign(token: str, user: str, issued: int) -> str:
    msg = _CONTEXT + f"{issued}:".encode() + user.encode()
    return hmac.new(token.encode(), msg, hashlib.sha256).hexdigest()


def session_value(token: str, user: str, issued: int | None = None) -> str:
    """The cookie value for ``user``: base64 name, issue time, signature under the service token."""
    issued = int(time.time()) if issued is None else issued
    name = base64.urlsafe_b64encode(user.encode()).decode().rstrip("=")
    return f"{name}.{issued}.{_sign(token, user, issued)}"


def session_user(request: Request, token: str | None) -> str | None:
    """The logged-in editor's name, or ``None`` when the cookie is missing, forged or expired."""
    parts = request.cookies.get(SESSION_COOKIE, "").split(".")
    if not token or len(parts) != 3 or not parts[1].isdigit():
        return None
    name, issued, sig = parts[0], int(parts[1]), parts[2]
    if not 0 <= time.time() - issued <= SESSION_SECONDS:
        return None
    try:
        user = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return user if hmac.compare_digest(sig, _sign(token, user, issued)) else None


def check_token(given: str, token: str | None) -> None:
    """Raise ``AuthError`` unless ``given`` is the configured service token."""
    if not token:
        raise AuthError("writes are disabled: no service token configured (set SENSEGRAPH_TOKEN)")
    if not given or not hmac.compare_digest(given.encode(), token.encode()):
        raise AuthError("that is not the service token")


def _csrf_binding(request: Request, token: str) -> str | None:
    """What this browser's CSRF token is bound to: its valid session, else its pre-login nonce."""
    if session_user(request, token) is not None:
        return "session:" + request.cookies.get(SESSION_COOKIE, "")
    nonce = request.cookies.get(CSRF_COOKIE, "")
    return "nonce:" + nonce if len(nonce) == 64 else None


def csrf_for(token: str | None, binding: str) -> str:
    """The form token for ``binding``: an HMAC under the service token, so only this server can make it."""
    return hmac.new((token or "").encode(), b"sensegraph-editor-csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: str | None, form_csrf: str | None) -> None:
    """Raise ``CsrfError`` unless ``form_csrf`` is the token bound to this request's session (or nonce)."""
    binding = _csrf_binding(request, token) if token else None
    if binding is None or not form_csrf or not hmac.compare_digest(form_csrf.encode(), csrf_for(token, binding).encode()):
        raise CsrfError("the form's CSRF token is missing or stale; reload the page and try again")


def writer(request: Request, token: str | None, form_csrf: str | None) -> str:
    """Who is writing: the session's user (CSRF checked) or "token" for a bearer request; else AuthError."""
    if not token:
        raise AuthError("writes are disabled: no service token configured (set SENSEGRAPH_TOKEN)")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given:
        check_token(given, token)
        return "token"
    user = session_user(request, token)
    if user is None:
        raise AuthError("log in with the service token to edit")
    check_csrf(request, token, form_csrf)
    return user


def page_csrf(request: Request, token: str | None) -> tuple[str, str | None]:
    """The CSRF token for the page's forms, and a fresh nonce to set when the browser has none yet."""
    if not token:
        return "", None
    binding = _csrf_binding(request, token)
    if binding is not None:
        return csrf_for(token, binding), None
    nonce = secrets.token_hex(32)
    return csrf_for(token, "nonce:" + nonce), nonce


def is_tls(request: Request) -> bool:
    """Whether the browser reached us over TLS (uvicorn's --proxy-headers sets the scheme from a trusted proxy)."""
    return request.url.scheme == "https"


def set_nonce(request: Request, response: Response, value: str) -> None:
    response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict", path=COOKIE_PATH, secure=is_tls(request))


def set_session(request: Request, response: Response, token: str, user: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_value(token, user), max_age=SESSION_SECONDS,
                        httponly=True, samesite="strict", path=COOKIE_PATH, secure=is_tls(request))


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=is_tls(request))
