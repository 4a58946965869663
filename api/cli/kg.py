"""Placeholder until the kg commands land."""
from __future__ import annotations
