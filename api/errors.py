"""One exception root for the whole package, with narrow subclasses the surfaces map to statuses, and
the one formatter of pydantic's field errors."""
from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from typing import Any


class SenseGraphError(Exception):
    """Root of every error sensegraph raises on purpose."""


class ConfigError(SenseGraphError):
    """A configuration value, store URI or registry name is wrong."""


class ValidationError(SenseGraphError, ValueError):
    """User input (a record, a query, a file line) is malformed; the message names what and where."""


class NotFound(SenseGraphError, KeyError):
    """A sense, medium or entity id that does not exist."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain message
        return str(self.args[0]) if self.args else ""


class StoreNotFound(ConfigError):
    """A command that reads a store was pointed at a path or URI holding none (a mistyped ``--store``)."""


class StoreError(SenseGraphError):
    """The graph store failed or refused a write (corruption, lock, lost connection)."""


class EncoderMismatch(StoreError):
    """The store holds embeddings of another encoder; mixing them would make similarities meaningless."""


class EncoderUnavailable(SenseGraphError):
    """An encoder's package or weights are missing; the message says what to install or pass."""


class MediaError(ValidationError):
    """A medium cannot be loaded: empty, not an image, truncated, too large, or a decompression bomb."""


class AuthError(SenseGraphError):
    """A write without a valid bearer token."""


def field_errors(errors: Iterable[Mapping[str, Any]], *, prefix: str = "", skip: Container[Any] = (),
                 default: str = "value") -> list[tuple[str, str]]:
    """``(field, message)`` per pydantic error (``exc.errors()``): the dotted location less the parts in
    ``skip`` (``default`` when none is left) after ``prefix``, and the message without pydantic's
    "Value error, " — the one formatter behind configuration, records and REST bodies."""
    out = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p not in skip) or default
        out.append((prefix + loc, str(e.get("msg", "invalid")).removeprefix("Value error, ")))
    return out


def describe_errors(errors: Iterable[Mapping[str, Any]], **options: Any) -> str:
    """``field: message; field: message`` (``field_errors``'s options), for one-line error messages."""
    return "; ".join(f"{field}: {msg}" for field, msg in field_errors(errors, **options))
