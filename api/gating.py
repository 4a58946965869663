"""What the ingest gate held back: caption links written as weak ``gated`` evidence, for stats and review.

The gate itself is ``ingest.evidence_gate`` (``api/config.py``), applied in ``api/ingest.py``; how much a
gated link counts in its sense's prototype is ``prototypes.gated_weight`` (0: not at all).
"""
from __future__ import annotations

from typing import Any

from sensegraph.config import SenseGraphConfig
from sensegraph.graph.base import GraphStore
from sensegraph.graph.model import Evidence


def gated_evidence(store: GraphStore) -> list[Evidence]:
    """Every gated link a curator has not yet pinned or detached (both turn it into editor evidence)."""
    return [e for e in store.evidence() if e.source == "gated" and not e.detached]


def gate_summary(counts: dict[str, int], config: SenseGraphConfig) -> dict[str, Any]:
    """Stats rows from the store's ``counts()`` (which counts gated links itself, so stats never reads
    every edge): how many links were gated, and whether they count weakly or not at all."""
    weight = config.prototypes.gated_weight
    return {"evidence_gated": int(counts.get("evidence_gated", 0)),
            "gated_as": f"weak (x{weight:g} in prototypes)" if weight > 0 else "none (kept for review, not in prototypes)"}
