"""The editorial web tool: pages for curating senses, served beside the REST API under ``/editor``.

``mount_editor(app)`` adds it to the service's FastAPI app; ``sensegraph serve`` serves both.
"""
from __future__ import annotations

from .routes import PREFIX, create_router, mount_editor

__all__ = ["PREFIX", "create_router", "mount_editor"]
