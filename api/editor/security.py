"""Editor sessions and CSRF: the service's bearer token, a signed session cookie, double-submit tokens.

* Logging in checks the service token once and sets ``sg_session`` = ``<user>.<issued>.<HMAC>``:
  HttpOnly, SameSite=Strict, scoped to ``/editor``. The token itself never goes into a cookie, and
  changing the token ends every session.
* Every page sets a random ``sg_csrf`` cookie (HttpOnly, SameSite=Strict); forms carry the same value
  in a hidden ``csrf`` field and a write is refused unless the two match (double submit).
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
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not form_csrf or not hmac.compare_digest(cookie.encode(), form_csrf.encode()):
        raise CsrfError("the form's CSRF token is missing or stale; reload the page and try again")
    return user


def csrf_token(request: Request) -> str:
    """The request's CSRF cookie value, or a fresh one (set on the response by ``set_csrf``)."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    return existing if len(existing) == 64 else secrets.token_hex(32)


def set_csrf(response: Response, value: str) -> None:
    response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict", path=COOKIE_PATH)


def set_session(response: Response, token: str, user: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_value(token, user), max_age=SESSION_SECONDS,
                        httponly=True, samesite="strict", path=COOKIE_PATH)


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
