"""Typed results shared by the Python API, the CLI (--json) and the REST service."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SenseScore(BaseModel):
    """One linked sense's part in a result's second similarity."""

    sense_id: str
    weight: float = Field(description="normalised linking confidence w_k")
    sim: float = Field(description="cos(prototype_k, medium) in the native space")
    prototype: str = Field("media", description="which prototype was used: media, curated or propagated")
    modality: str | None = Field(None, description="the modality block of the prototype this part scored (multimodal stores)")


class ModalityScore(BaseModel):
    """One modality of a hit (multimodal stores): its fusion weight in the medium and its own score."""

    modality: str
    weight: float = Field(description="the gate's weight of this modality in the medium's native vector")
    score: float = Field(description="sum_k w_k * cos(prototype_k's block, the medium's block) in this modality's space")


class Hit(BaseModel):
    """A ranked medium with its explanation: match = alpha*sim1 + beta*sim2."""

    rank: int
    media_id: str
    uri: str
    match: float
    sim1: float = Field(description="cos(text, medium) in the joint space")
    sim2: float = Field(description="sum_k w_k * cos(prototype_k, medium) in the native space")
    senses: list[SenseScore] = Field(default_factory=list)
    caption: str | None = None
    head: float | None = Field(None, description="the match head's score in [0, 1] when it re-ranked the formula's top K' (sensegraph.matcher)")
    modalities: list[ModalityScore] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "media_id": self.media_id,
            "uri": self.uri,
            "match": round(self.match, 6),
            "sim1": round(self.sim1, 6),
            "sim2": round(self.sim2, 6),
            **({} if self.head is None else {"head": round(self.head, 6)}),
            "senses": [
                {"sense_id": s.sense_id, "weight": round(s.weight, 6), "sim": round(s.sim, 6),
                 **({"modality": s.modality} if s.modality else {})}
                for s in self.senses
            ],
            **({"modalities": [{"modality": p.modality, "weight": round(p.weight, 6), "score": round(p.score, 6)}
                               for p in self.modalities]} if self.modalities else {}),
        }


class SearchResult(BaseModel):
    """A query's linked mentions and ranked hits, with metadata naming what produced them."""

    query: str
    linked: list[dict[str, Any]] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "linked": self.linked, "results": [h.to_dict() for h in self.hits]}


class SkippedRecord(BaseModel):
    """A record ingest did not store: where it is, why, and a ``kind`` to group by (``sensegraph.ingest.SKIP_HINTS``)."""

    ref: str
    reason: str
    kind: str = "other"


class IngestReport(BaseModel):
    """What an ingest did: counts, skipped records with reasons, prototypes touched."""

    ingested: int = 0
    already_present: int = 0
    skipped: list[SkippedRecord] = Field(default_factory=list)
    evidence_edges: int = 0
    evidence_gated: int = Field(0, description="of evidence_edges, links written as weak 'gated' evidence (ingest.evidence_gate)")
    senses_touched: int = 0
    prototypes_created: int = 0
    prototypes_changed: int = 0
    seconds: float = 0.0
    warnings: list[str] = Field(default_factory=list, description="problems with the ingest as a whole")
    propagated: int = Field(0, description="propagated prototypes the automatic update wrote near changed senses (propagation.auto)")

    @property
    def stored(self) -> int:
        """Records whose medium is in the store now (new or already present)."""
        return self.ingested + self.already_present

    def skipped_by_kind(self) -> dict[str, list[SkippedRecord]]:
        """Skipped records grouped by kind, the most frequent kind first."""
        groups: dict[str, list[SkippedRecord]] = {}
        for s in self.skipped:
            groups.setdefault(s.kind, []).append(s)
        return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))

    def merge(self, other: IngestReport) -> IngestReport:
        return IngestReport(
            ingested=self.ingested + other.ingested,
            already_present=self.already_present + other.already_present,
            skipped=self.skipped + other.skipped,
            evidence_edges=self.evidence_edges + other.evidence_edges,
            evidence_gated=self.evidence_gated + other.evidence_gated,
            senses_touched=self.senses_touched + other.senses_touched,
            prototypes_created=self.prototypes_created + other.prototypes_created,
            prototypes_changed=self.prototypes_changed + other.prototypes_changed,
            seconds=self.seconds + other.seconds,
            warnings=self.warnings + [w for w in other.warnings if w not in self.warnings],
        )


class SenseView(BaseModel):
    """A sense as people and scripts inspect it (``sensegraph sense``, ``GET /senses/{id}``)."""

    sense_id: str
    label: str
    gloss: str
    aliases: list[str] = Field(default_factory=list)
    related: list[dict[str, Any]] = Field(default_factory=list)
    prototype_source: str | None = None
    propagated: bool = False
    media_count: int = 0
    redirect_to: str | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    prototype: list[float] | None = None
