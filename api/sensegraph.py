"""``SenseGraph``: the Python API every surface (CLI, REST, editor) wraps.

    from sensegraph import SenseGraph
    sg = SenseGraph("./sensegraph-data")          # or "bolt://localhost:7687"; None = the default store
    sg.ingest([{"media": "photo.jpg", "text": "a crane lifting steel beams"}])
    for hit in sg.search("crane on a building site", k=5):
        print(hit.media_id, hit.match, hit.sim1, hit.sim2, hit.senses)

Models load on first use, once per instance; a store opens in the constructor.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import CONFIG_META_KEY, SenseGraphConfig, build_config, config_from_json, resolve_store_uri
from .errors import ConfigError, NotFound, ValidationError
from .keywords import known_keywords
from .results import Hit, IngestReport, SearchResult, SenseView

if TYPE_CHECKING:
    from sensegraph.encoders.base import Encoder
    from sensegraph.graph import GraphStore
    from sensegraph.graph.importers.report import ImportReport
    from sensegraph.graph.model import Evidence, MediaFilter
    from sensegraph.linking.base import LinkedMention, Linker
    from sensegraph.linking.disambiguate import EmbedTexts

    from .curation import Curator
    from .search import SearchEngine

# a SenseGraph's parts in build order: each is built from the configuration and the ones before it
PARTS: tuple[str, ...] = ("encoder", "text_memo", "linker", "engine")


class SenseGraph:
    """A sense-aware retrieval system over one graph store."""

    def __init__(
        self,
        store: GraphStore | str | os.PathLike[str] | None = None,
        *,
        config: SenseGraphConfig | Mapping[str, Any] | None = None,
        encoder: Encoder | None = None,
        linker: Linker | None = None,
        create: bool = True,
    ) -> None:
        """``create=False``: refuse a directory holding no store (``StoreNotFound``) instead of creating one."""
        from sensegraph.graph import GraphStore, open_store

        self._parts: dict[str, Any] = {}  # built or given parts, by name (PARTS)
        self._given: set[str] = set()  # parts replaced from outside: kept when what they were built from changes
        if isinstance(store, GraphStore):
            self.store = store
            self._owns_store = False
        else:
            self.store = open_store(resolve_store_uri(store), create=create)
            self._owns_store = True
        saved = config_from_json(self.store.get_meta(CONFIG_META_KEY))
        base = build_config(saved)
        if isinstance(config, SenseGraphConfig):
            base = config
        elif config:
            base = base.merged(dict(config))
        self.config = base  # through the setter: the store gets its vector-search settings
        if self.config.service.token is None and os.environ.get("SENSEGRAPH_TOKEN"):
            self.config.service.token = os.environ["SENSEGRAPH_TOKEN"]
        if encoder is not None:
            self.replace_part("encoder", encoder)
        if linker is not None:
            self.replace_part("linker", linker)

    @property
    def config(self) -> SenseGraphConfig:
        """The resolved configuration; assigning a new one hands its vector settings to the store and
        drops the built parts whose section changed (the engine always), to be built again from it."""
        return self._config

    @config.setter
    def config(self, value: SenseGraphConfig) -> None:
        if not isinstance(value, SenseGraphConfig):
            raise ConfigError(f"config must be a SenseGraphConfig, got {type(value).__name__} (use config.merged({{...}}))")
        old = getattr(self, "_config", None)
        self._config = value
        from sensegraph.graph.embedded import EmbeddedStore
        from sensegraph.graph.neo4j_store import Neo4jStore

        s = value.search
        if isinstance(self.store, EmbeddedStore):
            self.store.configure_vectors(ann_threshold=s.ann_threshold, compress_threshold=s.compress_threshold, rescore=s.rescore)
        elif isinstance(self.store, Neo4jStore):  # its index is the server's own: only the beam asked is ours
            self.store.configure_vectors(paired_overfetch=s.neo4j_overfetch)
        if old is not None:
            for part, section in (("encoder", "encoder"), ("linker", "linker")):
                if getattr(old, section) != getattr(value, section):
                    self._drop_built(part)
            self._drop_built("engine")  # it holds the configuration object itself

    # -- parts: built from the configuration on first use, replaceable (spaCy's replace_pipe) ---
    def replace_part(self, name: str, part: Any) -> None:
        """Use ``part`` as ``name`` ("encoder", "text_memo", "linker", "engine") from now on.

        Built parts that depend on it (PARTS order) are dropped and built again on next use; a part
        given this way stays until it is replaced again or ``reset_part`` forgets it.
        """
        _check_part(name, part)
        self._drop_built(name, keep_self=True)
        self._parts[name] = part
        self._given.add(name)

    def reset_part(self, name: str) -> None:
        """Forget ``name`` (given or built) and what was built on it; the next use builds it from the configuration."""
        _check_name(name)
        self._parts.pop(name, None)
        self._given.discard(name)
        self._drop_built(name, keep_self=True)

    def built_part(self, name: str) -> Any:
        """The part ``name`` if it was built or given already, else None (building nothing)."""
        _check_name(name)
        return self._parts.get(name)

    def _drop_built(self, name: str, *, keep_self: bool = False) -> None:
        """Drop ``name`` unless it was given (or ``keep_self``), and every built part after it in PARTS."""
        at = PARTS.index(name)
        for later in PARTS[at + (1 if keep_self else 0):]:
            if later not in self._given:
                self._parts.pop(later, None)

    def _part(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self._parts:
            self._parts[name] = build()
        return self._parts[name]

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> SenseGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save_config(self) -> None:
        """Persist the current configuration in the store (what ``calibrate`` tuned travels with the data)."""
        self.store.set_meta(CONFIG_META_KEY, self.config.model_dump_json(exclude={"service": {"token"}}))

    # -- lazily built parts ------------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        """The configured encoder behind the on-disk embedding cache; bound to the store."""
        return self._part("encoder", self._build_encoder)

    @property
    def text_memo(self) -> EmbedTexts | None:
        """The encoder's text embedding behind a memo of recent texts, shared by linker and engine."""
        return self._part("text_memo", self._build_text_memo)

    @property
    def linker(self) -> Linker:
        """The configured entity linker (``linker`` section) over the store and ``text_memo``."""
        return self._part("linker", self._build_linker)

    @property
    def engine(self) -> SearchEngine:
        """The search engine over the store, encoder, linker and configuration."""
        return self._part("engine", self._build_engine)

    def _build_encoder(self) -> Encoder:
        from sensegraph.encoders.cache import CachedEncoder
        from sensegraph.encoders.factory import create_encoder
        from sensegraph.encoders.text_cache import text_cache_dir

        cfg = self.config.encoder
        options: dict[str, Any] = {}
        if cfg.pretrained is not None:
            options["pretrained"] = cfg.pretrained
        if cfg.allow_download:
            options["allow_download"] = True
        raw = create_encoder(cfg.name, **options)
        enc = CachedEncoder(raw, self.cache_dir, text_cache_dir=text_cache_dir(cfg.text_cache_dir))
        self.store.bind_encoder(enc.encoder_id, enc.joint_dim, enc.native_dim)
        return enc

    def _build_text_memo(self) -> EmbedTexts:
        from sensegraph.encoders.recent import RecentTexts
        from sensegraph.linking.chinese import translating  # Chinese through CC-CEDICT for the English model

        return RecentTexts(translating(self.encoder.embed_texts))

    def _build_linker(self) -> Linker:
        from sensegraph.linking.linker import EntityLinker

        embed = self.text_memo
        if self.config.linker.context_model != "minilm":  # its own model, kept across linker rebuilds
            from sensegraph.encoders.context import context_text_model
            from sensegraph.encoders.recent import RecentTexts
            from sensegraph.linking.chinese import translating

            name, where = self.config.linker.context_model, self.config.encoder.text_cache_dir
            embed = self._part(f"context_texts:{name}", lambda: RecentTexts(translating(context_text_model(name, where))))
        # the built lexicon and matchers are cached beside the embeddings (linking/build_cache.py)
        return EntityLinker(self.store, embed, self.config.linker, cache_dir=self.cache_dir / "linker")

    def _build_engine(self) -> SearchEngine:
        from .search import SearchEngine

        return SearchEngine(self.store, self.encoder, self.linker, self.config, embed_texts=self.text_memo)

    @property
    def cache_dir(self) -> Path:
        """Where the embedding cache (and the linker's built tables) live: ``encoder.cache_dir``, else
        ``$SENSEGRAPH_CACHE_DIR``, else ``<store>/cache`` for a local store, else the user cache."""
        if self.config.encoder.cache_dir:
            return Path(self.config.encoder.cache_dir)
        if os.environ.get("SENSEGRAPH_CACHE_DIR"):
            return Path(os.environ["SENSEGRAPH_CACHE_DIR"])
        if self.store.local_dir is not None:
            return self.store.local_dir / "cache"
        return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sensegraph" / "embeddings"

    # -- knowledge graph -----------------------------------------------------------------------
    def import_kg(self, source: str | os.PathLike[str], *, wordnet_dir: str | os.PathLike[str] | None = None,
                  synsets: Sequence[str] | None = None, batch_size: int = 5000, progress: Any = None) -> ImportReport:
        """Import the senses linking needs: ``"wordnet"`` (WordNet 3.0 nouns), ``"cedict"`` (Chinese
        aliases of the WordNet senses already imported, from CC-CEDICT) or a JSON Lines KG file.

        WordNet is read from ``wordnet_dir``, else ``$SENSEGRAPH_WORDNET_DIR``, else Debian's
        wordnet-base; ``synsets`` limits it to those synsets and their hypernyms. A bad JSON Lines
        line aborts before anything is written; re-importing changes nothing. ``progress`` is called
        as ``progress(phase, done, total)`` per written batch.
        """
        from sensegraph.graph.importers import import_jsonl, import_wordnet

        if isinstance(source, str) and source.strip().lower() == "wordnet":
            report = import_wordnet(self.store, wordnet_dir, synsets=list(synsets) if synsets else None,
                                    batch_size=batch_size, progress=progress)
        elif isinstance(source, str) and source.strip().lower() == "cedict":  # zh aliases of WordNet senses
            from sensegraph.graph.importers.cedict import import_cedict

            if synsets or wordnet_dir is not None:
                raise ValidationError("synsets and wordnet_dir apply to source 'wordnet' only, not to 'cedict'")
            report = import_cedict(self.store, batch_size=batch_size, progress=progress)
        else:
            if synsets or wordnet_dir is not None:
                raise ValidationError("synsets and wordnet_dir apply to source 'wordnet' only, "
                                      f"not to the JSON Lines file {str(source)!r}")
            if not Path(source).exists():
                raise ValidationError(f"cannot read knowledge-graph file {str(source)!r}: no such file "
                                      "(a source is 'wordnet', 'cedict' or a JSON Lines file, docs/kg-format.md)")
            report = import_jsonl(self.store, source, batch_size=batch_size, progress=progress)
        self.refresh_linker()  # new aliases and senses are linkable now
        if self.config.propagation.auto:  # built here once, not by the first ingest's automatic update
            from .propagation import prepare_structure

            prepare_structure(self.store)
        return report

    # -- linking, ingest, search ---------------------------------------------------------------
    def link(self, text: str) -> list[LinkedMention]:
        """Mentions in ``text`` with their senses, confidences and every candidate's scores."""
        return self.linker.link(text)

    def link_many(self, texts: Sequence[str]) -> list[list[LinkedMention]]:
        """``link`` for several texts, with the linker's embedding calls batched across them."""
        return self.linker.link_many(list(texts))

    def ingest(self, records: Iterable[Mapping[str, Any]], *, base_dir: str | Path | None = None, progress: bool = False) -> IngestReport:
        """Embed, link and store media records ``{"media", "text"?, "id"?, ...}``; update touched prototypes."""
        from .ingest import Ingestor

        return Ingestor(self).run(records, base_dir=Path(base_dir) if base_dir else None, progress=progress)

    def ingest_manifest(self, path: str | Path, *, progress: bool = False) -> IngestReport:
        """Ingest a JSON Lines or CSV manifest, or a folder of media with caption side-files."""
        from .ingest import Ingestor, read_manifest

        records, base = read_manifest(Path(path))
        return Ingestor(self).run(records, base_dir=base, progress=progress)

    @known_keywords
    def search(self, text: str, k: int = 10, *, alpha: float | None = None, beta: float | None = None,
               senses: Mapping[str, str] | None = None, threshold: float | str | None = None,
               filters: MediaFilter | Mapping[str, Any] | None = None, modality: str | None = None) -> list[Hit]:
        """Ranked hits for ``text`` (see ``search_result`` for the parameters, linked mentions and metadata)."""
        return self.search_result(text, k, alpha=alpha, beta=beta, senses=senses, threshold=threshold, filters=filters,
                                  modality=modality).hits

    @known_keywords
    def search_result(self, text: str, k: int = 10, *, alpha: float | None = None, beta: float | None = None,
                      senses: Mapping[str, str] | None = None, threshold: float | str | None = None,
                      filters: MediaFilter | Mapping[str, Any] | None = None, modality: str | None = None) -> SearchResult:
        """The top ``k`` media for ``text`` with the linked mentions and metadata.

        ``alpha``/``beta`` override the configured weights (``beta=0``: text only); ``senses`` pins a
        sense per word of the query (``{"mouse": "n03793489"}``); ``threshold`` drops hits below that
        score (the match, or the head's score when ``search.rerank`` re-ranks), and ``"auto"`` uses the
        store's calibrated no-match threshold: nothing clears it → no hits, the reason in
        ``metadata["no_match"]`` (docs/matcher.md); ``filters`` is a ``MediaFilter`` or a mapping of its fields (e.g. ``{"modality": "image"}``);
        ``modality`` ("image", "video", "audio") keeps only media of that modality (None: every modality, mixed).
        """
        from .search import with_modality

        return self.engine.search(text, k, alpha=alpha, beta=beta, senses=senses, threshold=threshold,
                                  filters=with_modality(filters, modality))

    @known_keywords
    def search_many(self, texts: Sequence[str], k: int = 10, *, alpha: float | None = None, beta: float | None = None,
                    senses: Mapping[str, str] | None = None, threshold: float | str | None = None,
                    filters: MediaFilter | Mapping[str, Any] | None = None, modality: str | None = None) -> list[SearchResult]:
        """``search_result`` for a batch of queries with the models loaded once (same parameters for each)."""
        from .search import with_modality

        filters = with_modality(filters, modality)
        return [self.engine.search(t, k, alpha=alpha, beta=beta, senses=senses, threshold=threshold, filters=filters)
                for t in texts]

    @known_keywords
    def recommend(self, media_id: str, k: int = 10, *, alpha: float | None = None, beta: float | None = None) -> list[Hit]:
        """Media like a stored medium by the same formula (its joint embedding and its senses' prototypes)."""
        return self.engine.recommend(media_id, k, alpha=alpha, beta=beta).hits

    def similar(self, query: str | None = None, *, media_id: str | None = None, k: int = 10) -> list[Hit]:
        return self.engine.similar(query, media_id=media_id, k=k).hits

    # -- prototypes ------------------------------------------------------------------------------
    def rebuild_prototypes(self, strategy: str | None = None, *, progress: bool = False) -> int:
        """Recompute every media prototype, with ``strategy`` for this rebuild only (the configuration
        stays as it is; set ``prototypes.strategy`` to change later updates too); returns how many were written."""
        from .prototype_updates import PrototypeUpdater

        cfg = self.config.prototypes
        if strategy is not None:
            cfg = self.config.merged({"prototypes": {"strategy": strategy}}).prototypes  # validated, a copy
        return PrototypeUpdater(self.store, cfg).rebuild_all(progress=progress)

    # -- curation (the editor's operations; see sensegraph.curation) ------------------------------
    def curator(self, user: str | None = None) -> Curator:
        """A ``Curator`` attributing edits to ``user`` (default "editor")."""
        from .curation import Curator

        return Curator(self, user)

    def attach(self, media_id: str, sense_id: str, *, user: str | None = None) -> Any:
        return self.curator(user).attach(media_id, sense_id)

    def detach(self, media_id: str, sense_id: str, *, user: str | None = None) -> Any:
        return self.curator(user).detach(media_id, sense_id)

    def move_evidence(self, media_ids: Sequence[str], from_sense: str, to_sense: str, *, user: str | None = None) -> Any:
        return self.curator(user).move_evidence(media_ids, from_sense, to_sense)

    def split_sense(self, sense_id: str, new_id: str, label: str, gloss: str = "", *, media_ids: Sequence[str] | None = None,
                    cluster: int | None = None, user: str | None = None) -> Any:
        return self.curator(user).split_sense(sense_id, new_id, label, gloss, media_ids=media_ids, cluster=cluster)

    def merge_senses(self, keep: str, drop: str, *, user: str | None = None) -> Any:
        return self.curator(user).merge_senses(keep, drop)

    def edit_sense(self, sense_id: str, *, label: str | None = None, gloss: str | None = None,
                   add_aliases: Sequence[str] = (), user: str | None = None) -> Any:
        return self.curator(user).edit_sense(sense_id, label=label, gloss=gloss, add_aliases=add_aliases)

    def pin_mention(self, media_id: str, mention: str, sense_id: str, *, user: str | None = None) -> Any:
        return self.curator(user).pin_mention(media_id, mention, sense_id)

    def undo(self, audit_id: str, *, user: str | None = None) -> Any:
        return self.curator(user).undo(audit_id)

    def audit(self, sense_id: str | None = None, limit: int = 100) -> list[Any]:
        return self.store.audit_log(sense_id=sense_id, limit=limit)

    def refresh_linker(self, entries: Sequence[Any] | None = None) -> None:
        """Make the linker see alias changes now: new ``entries`` are added in place, anything else
        (an import, a merge) drops the linker, given or built, so the next use builds it from the store."""
        linker = self._parts.get("linker")
        if linker is None:
            return
        if entries is not None:
            linker.add_aliases(entries)
            return
        self.reset_part("linker")

    def propagate(self, changed_only: bool = False, progress: bool = False) -> Any:
        """Give senses with no/few media a propagated prototype (``propagation.method``; ``--changed``: only near changed evidence)."""
        from .propagation import propagate_graph

        return propagate_graph(self, changed_only=changed_only, progress=progress)

    # -- inspection ------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Store counts, the encoder, and how many caption links the ingest gate held back."""
        from .gating import gate_summary

        counts: dict[str, Any] = dict(self.store.counts())
        counts.update(gate_summary(counts, self.config))
        counts["encoder"] = self.store.get_meta("encoder_id")
        return counts

    def gated_evidence(self) -> list[Evidence]:
        """Caption links the ingest gate wrote as weak evidence, for a curator to pin or detach."""
        from .gating import gated_evidence

        return gated_evidence(self.store)

    def sense(self, sense_id: str, *, with_prototype: bool = False) -> SenseView:
        """A sense with aliases, relations, prototype provenance and evidence media."""
        if not isinstance(sense_id, str) or not sense_id.strip():
            raise ValidationError("sense id is empty")
        senses = self.store.get_senses([sense_id])
        if sense_id not in senses:
            raise NotFound(f"no sense with id {sense_id!r}")
        s = senses[sense_id]
        related_ids = set()
        rels = self.store.neighbours([sense_id])
        for r in rels:
            related_ids.update((r.source, r.target))
        labels = {k: v.label for k, v in self.store.get_senses(sorted(related_ids)).items()}
        related = [
            {"type": r.type, "direction": "out" if r.source == sense_id else "in",
             "sense_id": r.target if r.source == sense_id else r.source,
             "label": labels.get(r.target if r.source == sense_id else r.source, ""), "weight": r.weight}
            for r in rels
        ]
        evidence = self.store.evidence(sense_id=sense_id)
        media = self.store.get_media([e.media_id for e in evidence], vectors=False)
        own = self.store.get_prototypes([sense_id]).get(sense_id)
        prop = self.store.get_prototypes([sense_id], propagated=True).get(sense_id)
        return SenseView(
            sense_id=s.sense_id, label=s.label, gloss=s.gloss,
            aliases=sorted({a.text for a in self.store.aliases_of(sense_id)}),
            related=related, prototype_source=s.prototype_source, propagated=prop is not None,
            media_count=s.media_count, redirect_to=s.redirect_to,
            evidence=[
                {"media_id": e.media_id, "uri": media[e.media_id].uri if e.media_id in media else None,
                 "confidence": e.confidence, "source": e.source, "detached": e.detached, "mention": e.mention}
                for e in evidence
            ],
            prototype=[float(x) for x in own.vector] if (with_prototype and own is not None) else None,
        )


def _check_name(name: str) -> None:
    if name not in PARTS:
        raise ConfigError(f"unknown part {name!r}; a SenseGraph's parts are {', '.join(PARTS)}")


def _check_part(name: str, part: Any) -> None:
    """A clear error for a part that does not fit its seam (``Encoder``, ``Linker``, a text embedder)."""
    _check_name(name)
    from sensegraph.encoders.base import Encoder
    from sensegraph.linking.base import Linker

    if name == "encoder" and not isinstance(part, Encoder):
        raise ConfigError(f"encoder {type(part).__name__} lacks the Encoder protocol "
                          "(encoder_id, joint_dim, native_dim, embed_texts, embed_media)")
    if name == "linker" and not isinstance(part, Linker):
        raise ConfigError(f"linker {type(part).__name__} lacks the Linker protocol (link, link_many, add_aliases, forget_senses)")
    if name == "text_memo" and part is not None and not callable(part):
        raise ConfigError(f"text_memo must be a callable from texts to vectors or None, got {type(part).__name__}")
    if name == "engine" and not callable(getattr(part, "search", None)):
        raise ConfigError(f"engine {type(part).__name__} has no search method")
