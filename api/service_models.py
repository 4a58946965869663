"""Response models of the REST service: each endpoint declares one, so ``/openapi.json`` documents
what it returns and FastAPI checks every answer against it (issue 19).

Bodies are what they were before the models (``response_model_exclude_unset``): a field a result does
not carry is left out, not sent as null.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .results import Hit, IngestReport, SenseView

__all__ = ["ErrorBody", "HealthResponse", "Hit", "IngestReport", "LinkResponse", "MediaResponse", "SearchResponse",
           "SenseSummary", "SenseView", "StatsResponse"]


class ErrorBody(BaseModel):
    """Every error: the exception's name and a sentence naming what was wrong."""

    error: str
    detail: Any = None


class HealthResponse(BaseModel):
    status: str = Field(description="'ok' while the service answers")
    store: str = Field(description="the store's name")


class StatsResponse(BaseModel):
    """Store counts (``GraphStore.counts``), the encoder bound to the store and the ingest gate's summary."""

    model_config = ConfigDict(extra="allow")  # a store may count more than these

    entities: int = 0
    aliases: int = 0
    senses: int = 0
    relations: int = 0
    media: int = 0
    evidence: int = 0
    evidence_gated: int = Field(0, description="caption links the ingest gate wrote as weak evidence")
    gated_as: str = Field("", description="how gated links count in prototypes")
    encoder: str | None = Field(None, description="the encoder id the store's vectors come from")


class CandidateScore(BaseModel):
    sense_id: str
    score: float
    parts: dict[str, float] = Field(default_factory=dict, description="the score's parts: context, prior, coherence, alias")


class MentionOut(BaseModel):
    """A linked mention: its span, its sense (null: NIL), the confidence and every candidate's scores."""

    text: str
    start: int
    end: int
    sense_id: str | None
    confidence: float
    candidates: list[CandidateScore] = Field(default_factory=list)


class LinkResponse(BaseModel):
    mentions: list[MentionOut]


class SearchResponse(BaseModel):
    """Ranked hits, each explained (match = alpha·sim1 + beta·sim2), with the query's linked mentions."""

    query: str
    linked: list[MentionOut] = Field(default_factory=list)
    results: list[Hit] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict, description="alpha, beta, encoder, timings; no_match when nothing cleared the threshold")


class SenseSummary(BaseModel):
    sense_id: str
    label: str
    gloss: str = ""
    media_count: int = 0


class MediaSense(BaseModel):
    sense_id: str
    confidence: float
    source: str = Field(description="linker, gated, classifier or editor")
    detached: bool = False


class MediaResponse(BaseModel):
    media_id: str
    uri: str | None
    content_url: str = Field(description="where GET serves the medium's bytes")
    modality: str
    sha256: str | None = None
    caption: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    senses: list[MediaSense] = Field(default_factory=list)
