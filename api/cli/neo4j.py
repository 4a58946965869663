"""Placeholder until the neo4j commands land."""
from __future__ import annotations
