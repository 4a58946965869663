"""Cypher of the Neo4j store, one constant per statement; every value is a ``$parameter``.

Labels, relationship types and index names are fixed here. The only identifiers composed at run
time (constraint and index DDL, which Cypher cannot parametrise) go through ``ident``, which
accepts names from ``LABELS``/``INDEXES`` only and backtick-escapes them.

Graph model: ``(:Alias {key, text, lang})-[:NAMES]->(:Entity {id, name})-[:HAS_SENSE {rank}]->
(:Sense {sense_id, label, gloss, redirect_to, prototype*, propagated*})``, ``(:Sense)-[:RELATED
{type, weight}]->(:Sense)``, ``(:Media {media_id, uri, modality, sha256, caption, metadata,
embedding, features, paired})-[:EVIDENCE {confidence, source, detached, mention}]->(:Sense)``, plus
``(:SenseGraphMeta {key, value})``, ``(:Audit {...})`` and ``(:SenseGraphCounter {name, value})``.

``Media.paired`` is ``[ê | f̂ | c]``: the unit embedding and unit features (zeros for a part the
medium lacks) and one pad value c = sqrt(2 - parts present), so every paired row has norm sqrt(2).
For a query ``[qj | qn | 0]`` the inner product with it is the match formula ``qj·ê + qn·f̂``, and
with every row of the same norm a cosine index ranks by that inner product exactly (cos =
formula / (|q|·sqrt(2))): one vector index answers ``search_match``.
"""
from __future__ import annotations

from sensegraph.errors import ConfigError

LABELS = ("Entity", "Alias", "Sense", "Media", "SenseGraphMeta", "Audit", "SenseGraphCounter")
REL_TYPES = ("NAMES", "HAS_SENSE", "RELATED", "EVIDENCE")

# name -> (label, property, which encoder dimension)
VECTOR_INDEXES: dict[str, tuple[str, str, str]] = {
    "sg_media_embedding": ("Media", "embedding", "joint"),
    "sg_media_features": ("Media", "features", "native"),
    "sg_media_paired": ("Media", "paired", "paired"),
    "sg_sense_prototype": ("Sense", "prototype", "native"),
    "sg_sense_propagated": ("Sense", "propagated", "native"),
}
# name -> (label, property) of the uniqueness constraints
CONSTRAINTS: dict[str, tuple[str, str]] = {
    "sg_entity_id": ("Entity", "id"),
    "sg_alias_key": ("Alias", "key"),
    "sg_sense_id": ("Sense", "sense_id"),
    "sg_media_id": ("Media", "media_id"),
    "sg_meta_key": ("SenseGraphMeta", "key"),
    "sg_audit_id": ("Audit", "audit_id"),
    "sg_counter_name": ("SenseGraphCounter", "name"),
}
RANGE_INDEXES: dict[str, tuple[str, str]] = {"sg_media_sha256": ("Media", "sha256")}
_PROPERTIES = frozenset(
    p for table in (VECTOR_INDEXES, CONSTRAINTS, RANGE_INDEXES) for _, p, *_ in table.values()
)
_ALLOWED = frozenset(LABELS) | frozenset(REL_TYPES) | frozenset(VECTOR_INDEXES) | frozenset(
    CONSTRAINTS) | frozenset(RANGE_INDEXES) | _PROPERTIES


def ident(name: str) -> str:
    """Backtick-escape an identifier from the allow-list (anything else is a programming error)."""
    if name not in _ALLOWED:
        raise ConfigError(f"identifier {name!r} is not in the Neo4j store's allow-list")
    return "`" + name.replace("`", "``") + "`"


def create_constraint(name: str) -> str:
    label, prop = CONSTRAINTS[name]
    return (f"CREATE CONSTRAINT {ident(name)} IF NOT EXISTS "
            f"FOR (n:{ident(label)}) REQUIRE n.{ident(prop)} IS UNIQUE")


def create_range_index(name: str) -> str:
    label, prop = RANGE_INDEXES[name]
    return f"CREATE INDEX {ident(name)} IF NOT EXISTS FOR (n:{ident(label)}) ON (n.{ident(prop)})"


def create_vector_index(name: str) -> str:
    """DDL of a cosine vector index; dimensions come as ``$dims`` (quantisation off: exact scores;
    HNSW M 32 and ef_construction 200: text queries sit far from the media, where M 16 lost recall)."""
    label, prop, _ = VECTOR_INDEXES[name]
    return (
        f"CREATE VECTOR INDEX {ident(name)} IF NOT EXISTS FOR (n:{ident(label)}) ON (n.{ident(prop)}) "
        "OPTIONS {indexConfig: {`vector.dimensions`: $dims, `vector.similarity_function`: 'cosine', "
        "`vector.quantization.enabled`: false, `vector.hnsw.m`: 32, `vector.hnsw.ef_construction`: 200}}"
    )


def drop_index(name: str) -> str:
    return f"DROP INDEX {ident(name)} IF EXISTS"


# A uniqueness constraint owns an index of the same name, so SHOW INDEXES lists both kinds.
SHOW_SCHEMA_NAMES = "SHOW INDEXES YIELD name RETURN name"
SHOW_VECTOR_INDEXES = (
    "SHOW VECTOR INDEXES YIELD name, options "
    "RETURN name, options.indexConfig.`vector.dimensions` AS dims"
)
AWAIT_INDEXES = "CALL db.awaitIndexes($timeout)"

# -- meta -------------------------------------------------------------------------------------------
GET_META = "MATCH (m:SenseGraphMeta {key: $key}) RETURN m.value AS value"
SET_META = "MERGE (m:SenseGraphMeta {key: $key}) SET m.value = $value"
GET_METAS = "UNWIND $ids AS key MATCH (m:SenseGraphMeta {key: key}) RETURN m.key AS key, m.value AS value"
# First binder wins: ON CREATE sets the value, every caller reads back what is held.
CLAIM_META = """
UNWIND $rows AS row
MERGE (m:SenseGraphMeta {key: row.key})
ON CREATE SET m.value = row.value
RETURN m.key AS key, m.value AS value
"""
WIPE_BATCH = "MATCH (n) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted"

# -- knowledge graph upserts ---------------------------------------------------------------------------
UPSERT_ENTITIES = """
UNWIND $rows AS row
MERGE (e:Entity {id: row.id})
SET e.name = row.name
"""
# An alias names an existing entity; aliases of entities not (yet) in the graph are skipped.
UPSERT_ALIASES = """
UNWIND $rows AS row
MATCH (e:Entity {id: row.entity_id})
MERGE (a:Alias {key: row.key})
ON CREATE SET a.text = row.text, a.lang = row.lang
MERGE (a)-[:NAMES]->(e)
"""
UPSERT_SENSES = """
UNWIND $rows AS row
MERGE (s:Sense {sense_id: row.sense_id})
ON CREATE SET s.redirect_to = row.redirect_to
SET s.label = row.label, s.gloss = row.gloss
"""
UPSERT_HAS_SENSE = """
UNWIND $rows AS row
MATCH (e:Entity {id: row.entity_id})
MATCH (s:Sense {sense_id: row.sense_id})
MERGE (e)-[h:HAS_SENSE]->(s)
SET h.rank = row.rank
"""
UPSERT_RELATIONS = """
UNWIND $rows AS row
MATCH (a:Sense {sense_id: row.source})
MATCH (b:Sense {sense_id: row.target})
MERGE (a)-[r:RELATED {type: row.type}]->(b)
SET r.weight = row.weight
"""

# -- media and evidence -----------------------------------------------------------------------------
# A vector is only written when it changed: every SET of an indexed vector (even to the same value)
# costs a vector-index update at commit, which made a re-ingest as slow as the first one.
MEDIA_SHA256S = "MATCH (m:Media) WHERE m.media_id IN $ids RETURN m.media_id AS media_id, m.sha256 AS sha256"
# The paired row of ``m`` from its stored vectors (see the module docstring); $joint_dim and
# $native_dim size the zero part of a medium lacking one. Shared by the media write and the upgrade.
_SET_PAIRED = """
WITH m,
     CASE WHEN m.embedding IS NULL THEN 0.0 ELSE sqrt(reduce(s = 0.0, x IN m.embedding | s + x * x)) END AS ne,
     CASE WHEN m.features IS NULL THEN 0.0 ELSE sqrt(reduce(s = 0.0, x IN m.features | s + x * x)) END AS nf
SET m.paired = CASE WHEN ne > 0 THEN [x IN m.embedding | x / ne] ELSE [i IN range(1, $joint_dim) | 0.0] END
             + CASE WHEN nf > 0 THEN [x IN m.features | x / nf] ELSE [i IN range(1, $native_dim) | 0.0] END
             + [sqrt(2.0 - CASE WHEN ne > 0 THEN 1.0 ELSE 0.0 END - CASE WHEN nf > 0 THEN 1.0 ELSE 0.0 END)]
"""
# The paired row is rewritten with the vectors it is made of, in the same statement ($paired false
# while no encoder is bound: the dims are unknown, and the upgrade writes it once they are).
UPSERT_MEDIA = """
UNWIND $rows AS row
MERGE (m:Media {media_id: row.media_id})
WITH m, row,
     row.embedding IS NOT NULL AND (m.embedding IS NULL OR m.embedding <> row.embedding) AS new_e,
     row.features IS NOT NULL AND (m.features IS NULL OR m.features <> row.features) AS new_f
SET m.uri = row.uri, m.modality = row.modality, m.sha256 = row.sha256, m.caption = row.caption,
    m.metadata = row.metadata
FOREACH (_ IN CASE WHEN new_e THEN [1] ELSE [] END | SET m.embedding = row.embedding)
FOREACH (_ IN CASE WHEN new_f THEN [1] ELSE [] END | SET m.features = row.features)
WITH m, new_e, new_f
WHERE $paired AND (new_e OR new_f OR m.paired IS NULL) AND (m.embedding IS NOT NULL OR m.features IS NOT NULL)
""" + _SET_PAIRED
# Upgrade of a store written before paired rows (or before its encoder was bound): one page of
# media lacking theirs per call, computed in the database (no vectors travel); idempotent.
UPGRADE_PAIRED = """
MATCH (m:Media)
WHERE m.paired IS NULL AND (m.embedding IS NOT NULL OR m.features IS NOT NULL)
WITH m LIMIT $limit
""" + _SET_PAIRED + """
RETURN count(*) AS written
"""
# One edge per (media, sense); an editor edge is only replaced by another editor edge; edges to
# media or senses that do not exist are skipped.
UPSERT_EVIDENCE = """
UNWIND $rows AS row
MATCH (m:Media {media_id: row.media_id})
MATCH (s:Sense {sense_id: row.sense_id})
OPTIONAL MATCH (m)-[old:EVIDENCE]->(s)
WITH m, s, row, old
WHERE old IS NULL OR old.source <> 'editor' OR row.source = 'editor'
MERGE (m)-[e:EVIDENCE]->(s)
SET e.confidence = row.confidence, e.source = row.source, e.detached = row.detached,
    e.mention = row.mention
RETURN count(e) AS written
"""
DELETE_EVIDENCE = """
UNWIND $rows AS row
MATCH (:Media {media_id: row.media_id})-[e:EVIDENCE]->(:Sense {sense_id: row.sense_id})
DELETE e
RETURN count(*) AS deleted
"""

# -- reads --------------------------------------------------------------------------------------------
_SENSE_FIELDS = """
s.sense_id AS sense_id, s.label AS label, s.gloss AS gloss, s.redirect_to AS redirect_to,
COUNT { (:Media)-[ev:EVIDENCE]->(s) WHERE ev.detached = false } AS media_count,
s.prototype_source AS prototype_source
"""
GET_SENSES = "UNWIND $ids AS id MATCH (s:Sense {sense_id: id}) RETURN " + _SENSE_FIELDS
SENSES_PAGE = (
    "MATCH (s:Sense) WHERE s.sense_id > $after WITH s ORDER BY s.sense_id LIMIT $limit RETURN "
    + _SENSE_FIELDS
)
REDIRECTS_OF = "UNWIND $ids AS id MATCH (s:Sense {sense_id: id}) RETURN s.sense_id AS sense_id, s.redirect_to AS redirect_to"
# The sense finder's candidates: each sense whose id or label contains $q, or that an alias containing
# $q names, with those aliases (the ranking is sense_finder.rank_candidates, shared with the embedded store);
# $anywhere false: only names that start with $q.
SENSE_CANDIDATES = """
CALL () {
  MATCH (s:Sense)
  WHERE ($anywhere AND (toLower(s.sense_id) CONTAINS $q OR toLower(s.label) CONTAINS $q))
     OR toLower(s.sense_id) STARTS WITH $q OR toLower(s.label) STARTS WITH $q
  RETURN s, null AS alias
  UNION
  MATCH (a:Alias)-[:NAMES]->(:Entity)-[:HAS_SENSE]->(s:Sense)
  WHERE CASE WHEN $anywhere THEN toLower(a.text) CONTAINS $q ELSE toLower(a.text) STARTS WITH $q END
  RETURN s, a.text AS alias
}
WITH s, collect(DISTINCT alias) AS aliases
RETURN s.sense_id AS sense_id, s.label AS label, s.redirect_to AS redirect_to, aliases,
       COUNT { (:Media)-[ev:EVIDENCE]->(s) WHERE ev.detached = false } AS media_count
"""
ALIASES_OF = """
MATCH (a:Alias)-[:NAMES]->(e:Entity)-[h:HAS_SENSE]->(:Sense {sense_id: $sense_id})
RETURN a.text AS text, e.id AS entity_id, a.lang AS lang, h.rank AS rank
ORDER BY rank, entity_id, text, lang
"""
# One page of aliases (by key) per call, its rows collected into one list: the driver hydrates one
# big list about twice as fast as as many records.
ALIAS_TABLE_PAGE = """
MATCH (a:Alias) WHERE a.key > $after
WITH a ORDER BY a.key LIMIT $limit
WITH collect(a) AS page
UNWIND page AS a
OPTIONAL MATCH (a)-[:NAMES]->(e:Entity)-[h:HAS_SENSE]->(s:Sense)
WITH page, collect(CASE WHEN s IS NOT NULL THEN [a.text, a.lang, e.id, s.sense_id, h.rank] END) AS rows
RETURN page[-1].key AS last, rows
"""
NEIGHBOURS = """
UNWIND $ids AS id
MATCH (:Sense {sense_id: id})-[r:RELATED]-(:Sense)
WITH DISTINCT r, startNode(r) AS src, endNode(r) AS dst
RETURN src.sense_id AS source, dst.sense_id AS target, r.type AS type, r.weight AS weight
ORDER BY source, target, type
"""
RELATIONS_FROM_PAGE = """
MATCH (a:Sense) WHERE a.sense_id > $after
WITH a ORDER BY a.sense_id LIMIT $limit
OPTIONAL MATCH (a)-[r:RELATED]->(b:Sense)
RETURN a.sense_id AS source, b.sense_id AS target, r.type AS type, r.weight AS weight
ORDER BY source, target, type
"""
_EVIDENCE_FIELDS = """
m.media_id AS media_id, s.sense_id AS sense_id, e.confidence AS confidence, e.source AS source,
e.detached AS detached, e.mention AS mention
"""
_EVIDENCE_ORDER = " ORDER BY sense_id, media_id"
EVIDENCE_ALL = "MATCH (m:Media)-[e:EVIDENCE]->(s:Sense) RETURN " + _EVIDENCE_FIELDS + _EVIDENCE_ORDER
EVIDENCE_OF_SENSE = (
    "MATCH (m:Media)-[e:EVIDENCE]->(s:Sense {sense_id: $sense_id}) RETURN " + _EVIDENCE_FIELDS + _EVIDENCE_ORDER
)
EVIDENCE_OF_MEDIA = (
    "MATCH (m:Media {media_id: $media_id})-[e:EVIDENCE]->(s:Sense) RETURN " + _EVIDENCE_FIELDS + _EVIDENCE_ORDER
)
EVIDENCE_OF_PAIR = (
    "MATCH (m:Media {media_id: $media_id})-[e:EVIDENCE]->(s:Sense {sense_id: $sense_id}) RETURN "
    + _EVIDENCE_FIELDS
)
_MEDIA_FIELDS = """
m.media_id AS media_id, m.uri AS uri, m.modality AS modality, m.sha256 AS sha256,
m.caption AS caption, m.metadata AS metadata,
CASE WHEN $vectors THEN m.embedding END AS embedding,
CASE WHEN $vectors THEN m.features END AS features
"""
GET_MEDIA = "UNWIND $ids AS id MATCH (m:Media {media_id: id}) RETURN " + _MEDIA_FIELDS
MEDIA_BY_SHA256 = (
    "MATCH (m:Media {sha256: $sha256}) WITH m ORDER BY m.media_id LIMIT 1 RETURN " + _MEDIA_FIELDS
)
MEDIA_PAGE = (
    "MATCH (m:Media) WHERE m.media_id > $after WITH m ORDER BY m.media_id LIMIT $limit RETURN "
    + _MEDIA_FIELDS
)
COUNTS = """
RETURN COUNT { (:Entity) } AS entities,
       COUNT { (:Alias) } AS aliases,
       COUNT { (:Sense) } AS senses,
       COUNT { ()-[:RELATED]->() } AS relations,
       COUNT { (:Media) } AS media,
       COUNT { ()-[:EVIDENCE]->() } AS evidence,
       COUNT { (s:Sense) WHERE s.prototype_source = 'media' } AS prototypes_media,
       COUNT { (s:Sense) WHERE s.prototype_source = 'curated' } AS prototypes_curated,
       COUNT { (s:Sense) WHERE s.propagated IS NOT NULL } AS prototypes_propagated,
       COUNT { ()-[e:EVIDENCE]->() WHERE e.source = 'gated' AND e.detached = false } AS evidence_gated
"""

# -- prototypes -------------------------------------------------------------------------------------------
# Own slot: a media prototype never overwrites a curated one. Unknown senses are skipped.
SET_OWN_PROTOTYPES = """
UNWIND $rows AS row
MATCH (s:Sense {sense_id: row.sense_id})
WHERE NOT (row.source = 'media' AND coalesce(s.prototype_source, '') = 'curated')
SET s.prototype = row.vector, s.prototype_source = row.source,
    s.prototype_media_count = row.media_count, s.prototype_strategy = row.strategy,
    s.prototype_confidence = row.confidence, s.prototype_joint = row.joint,
    s.prototype_weight = row.weight, s.prototype_norm = row.norm
RETURN count(s) AS written
"""
SET_PROPAGATED_PROTOTYPES = """
UNWIND $rows AS row
MATCH (s:Sense {sense_id: row.sense_id})
SET s.propagated = row.vector, s.propagated_media_count = row.media_count,
    s.propagated_strategy = row.strategy, s.propagated_confidence = row.confidence,
    s.propagated_joint = row.joint, s.propagated_weight = row.weight, s.propagated_norm = row.norm
RETURN count(s) AS written
"""
CLEAR_OWN_PROTOTYPE = """
UNWIND $rows AS row
MATCH (s:Sense {sense_id: row.sense_id})
REMOVE s.prototype, s.prototype_source, s.prototype_media_count, s.prototype_strategy,
       s.prototype_confidence, s.prototype_joint, s.prototype_weight, s.prototype_norm
"""
CLEAR_PROPAGATED_PROTOTYPE = """
UNWIND $rows AS row
MATCH (s:Sense {sense_id: row.sense_id})
REMOVE s.propagated, s.propagated_media_count, s.propagated_strategy, s.propagated_confidence,
       s.propagated_joint, s.propagated_weight, s.propagated_norm
"""
GET_OWN_PROTOTYPES = """
UNWIND $ids AS id
MATCH (s:Sense {sense_id: id}) WHERE s.prototype IS NOT NULL
RETURN s.sense_id AS sense_id, s.prototype AS vector, s.prototype_source AS source,
       s.prototype_media_count AS media_count, s.prototype_strategy AS strategy,
       s.prototype_confidence AS confidence, s.prototype_joint AS joint,
       s.prototype_weight AS weight, s.prototype_norm AS norm
"""
GET_PROPAGATED_PROTOTYPES = """
UNWIND $ids AS id
MATCH (s:Sense {sense_id: id}) WHERE s.propagated IS NOT NULL
RETURN s.sense_id AS sense_id, s.propagated AS vector, 'propagated' AS source,
       s.propagated_media_count AS media_count, s.propagated_strategy AS strategy,
       s.propagated_confidence AS confidence, s.propagated_joint AS joint,
       s.propagated_weight AS weight, s.propagated_norm AS norm
"""

# A sense's redirect and both prototype slots (none for a redirected sense), as maps of the prototype fields.
_SENSE_SLOTS = """
s.sense_id AS sense_id, s.redirect_to AS redirect_to,
       CASE WHEN s.prototype IS NOT NULL AND s.redirect_to IS NULL THEN {
         sense_id: s.sense_id, vector: s.prototype, source: s.prototype_source,
         media_count: s.prototype_media_count, strategy: s.prototype_strategy,
         confidence: s.prototype_confidence, joint: s.prototype_joint,
         weight: s.prototype_weight, norm: s.prototype_norm} END AS own,
       CASE WHEN s.propagated IS NOT NULL AND s.redirect_to IS NULL THEN {
         sense_id: s.sense_id, vector: s.propagated, source: 'propagated',
         media_count: s.propagated_media_count, strategy: s.propagated_strategy,
         confidence: s.propagated_confidence, joint: s.propagated_joint,
         weight: s.propagated_weight, norm: s.propagated_norm} END AS propagated
"""
SENSE_PROTOTYPES = "UNWIND $ids AS id MATCH (s:Sense {sense_id: id}) RETURN " + _SENSE_SLOTS
# A search's senses in one query: the slots of $ids (rows with a null ``of``), and for each sense of
# $expand holding no prototype the senses one relation away (distance 1) and, unless more than
# $max_visited were seen by then or $hops is 1, those one further (distance 2; a sense reached both
# ways comes back with its least distance), each with its slots (graph/core.py ``search_context``).
SEARCH_CONTEXT = """
CALL () {
  UNWIND $ids AS id
  MATCH (s:Sense {sense_id: id})
  RETURN null AS of, 0 AS distance, s
  UNION ALL
  UNWIND $expand AS id
  MATCH (x:Sense {sense_id: id})
  WHERE x.redirect_to IS NOT NULL OR (x.prototype IS NULL AND x.propagated IS NULL)
  CALL (x) {
    OPTIONAL MATCH (x)-[:RELATED]-(n:Sense) WHERE n <> x
    RETURN collect(DISTINCT n) AS first
  }
  CALL (x, first) {
    UNWIND first AS n
    RETURN n AS r, 1 AS d
    UNION ALL
    UNWIND CASE WHEN $hops >= 2 AND size(first) + 1 <= $max_visited THEN first ELSE [] END AS n
    MATCH (n)-[:RELATED]-(m:Sense) WHERE m <> x
    WITH DISTINCT m
    RETURN m AS r, 2 AS d
  }
  WITH x, r, min(d) AS d
  RETURN x.sense_id AS of, d AS distance, r AS s
}
RETURN of, distance, """ + _SENSE_SLOTS

# -- vector search --------------------------------------------------------------------------------------
# Scores: Neo4j's cosine is (1 + cos) / 2; the store converts back to cos. With quantisation off the
# index scores the stored float32 vectors exactly, so its score is kept: reading every candidate's
# vector property back to re-score it in Cypher cost most of a query (over-fetching is for recall).
_MEDIA_FILTER = """
($modality IS NULL OR node.modality = $modality)
AND ($source IS NULL OR EXISTS { (node)-[:EVIDENCE {source: $source}]->(:Sense) })
AND NOT node.media_id IN $exclude
"""
_SPACE_VECTOR = "CASE $space WHEN 'joint' THEN node.embedding ELSE node.features END"
# The paired index's formula query: as SEARCH_MEDIA_INDEX, with the hits ranked here (score, then id,
# as the store ranks) and the records of the best $records (vectors included) read in the same query,
# so a search's reads of its hits need no round trip of their own.
SEARCH_MATCH_INDEX = f"""
CALL db.index.vector.queryNodes($index, $fetch, $vector) YIELD node, score
WITH count(*) AS raw, collect(CASE WHEN {_MEDIA_FILTER} THEN [node, score] END) AS kept
UNWIND (CASE WHEN size(kept) = 0 THEN [[null, null]] ELSE kept END) AS hit
WITH raw, hit[0] AS node, hit[1] AS score
ORDER BY score DESC, node.media_id
WITH raw, collect([node, score]) AS ranked
UNWIND range(0, size(ranked) - 1) AS i
WITH raw, i, ranked[i][0] AS node, ranked[i][1] AS score
RETURN raw, node.media_id AS media_id, score,
       CASE WHEN i < $records AND node IS NOT NULL THEN {{
         media_id: node.media_id, uri: node.uri, modality: node.modality, sha256: node.sha256,
         caption: node.caption, metadata: node.metadata, embedding: node.embedding,
         features: node.features}} END AS record
"""
SEARCH_MEDIA_INDEX = f"""
CALL db.index.vector.queryNodes($index, $fetch, $vector) YIELD node, score
WITH count(*) AS raw, collect(CASE WHEN {_MEDIA_FILTER} THEN [node.media_id, score] END) AS kept
UNWIND (CASE WHEN size(kept) = 0 THEN [[null, null]] ELSE kept END) AS hit
RETURN raw, hit[0] AS media_id, hit[1] AS score
"""
# Exact scans: with a sense filter (that sense's live evidence media), or with no index to ask.
SEARCH_MEDIA_OF_SENSE = f"""
MATCH (node:Media)-[e:EVIDENCE]->(:Sense {{sense_id: $sense_id}})
WHERE e.detached = false AND {_MEDIA_FILTER}
WITH DISTINCT node
WITH node, {_SPACE_VECTOR} AS v
WHERE v IS NOT NULL AND size(v) = size($vector)
RETURN node.media_id AS media_id, vector.similarity.cosine(v, $vector) AS score
ORDER BY score DESC, media_id LIMIT $k
"""
SEARCH_MEDIA_SCAN = f"""
MATCH (node:Media)
WHERE {_MEDIA_FILTER}
WITH node, {_SPACE_VECTOR} AS v
WHERE v IS NOT NULL AND size(v) = size($vector)
RETURN node.media_id AS media_id, vector.similarity.cosine(v, $vector) AS score
ORDER BY score DESC, media_id LIMIT $k
"""
# The match formula over every medium (a sense filter's media, or no index to ask): each part's
# cosine scaled by its query's norm ($jn, $nn), a part the medium lacks counting 0.
_MATCH_SCORE = """
WITH node,
     CASE WHEN $jn > 0 AND node.embedding IS NOT NULL AND size(node.embedding) = size($joint)
          THEN (2 * coalesce(vector.similarity.cosine(node.embedding, $joint), 0.5) - 1) * $jn ELSE 0.0 END
   + CASE WHEN $nn > 0 AND node.features IS NOT NULL AND size(node.features) = size($native)
          THEN (2 * coalesce(vector.similarity.cosine(node.features, $native), 0.5) - 1) * $nn ELSE 0.0 END
     AS score
RETURN node.media_id AS media_id, score
ORDER BY score DESC, media_id LIMIT $k
"""
SEARCH_MATCH_OF_SENSE = f"""
MATCH (node:Media)-[e:EVIDENCE]->(:Sense {{sense_id: $sense_id}})
WHERE e.detached = false AND {_MEDIA_FILTER} AND (node.embedding IS NOT NULL OR node.features IS NOT NULL)
WITH DISTINCT node
""" + _MATCH_SCORE
SEARCH_MATCH_SCAN = f"""
MATCH (node:Media)
WHERE {_MEDIA_FILTER} AND (node.embedding IS NOT NULL OR node.features IS NOT NULL)
""" + _MATCH_SCORE
SEARCH_PROTOTYPES_INDEX = """
CALL db.index.vector.queryNodes($index, $fetch, $vector) YIELD node, score
RETURN node.sense_id AS sense_id, score
"""
SEARCH_PROTOTYPES_SCAN = """
MATCH (node:Sense)
WITH node, CASE WHEN $propagated THEN node.propagated ELSE node.prototype END AS v
WHERE v IS NOT NULL AND size(v) = size($vector)
RETURN node.sense_id AS sense_id, vector.similarity.cosine(v, $vector) AS score
ORDER BY score DESC, sense_id LIMIT $k
"""

# -- curator edits (run inside one write transaction) -------------------------------------------------
MISSING_SENSES = "UNWIND $ids AS id OPTIONAL MATCH (s:Sense {sense_id: id}) WITH id, s WHERE s IS NULL RETURN id"
MISSING_MEDIA = "UNWIND $ids AS id OPTIONAL MATCH (m:Media {media_id: id}) WITH id, m WHERE m IS NULL RETURN id"

# -- audit --------------------------------------------------------------------------------------------
ADD_AUDIT = """
MERGE (c:SenseGraphCounter {name: 'audit'})
SET c.value = coalesce(c.value, 0) + 1
WITH c
MERGE (a:Audit {audit_id: $audit_id})
ON CREATE SET a.seq = c.value
SET a.user = $user, a.at = $at, a.action = $action, a.sense_ids = $sense_ids,
    a.before = $before, a.after = $after, a.undone = $undone
"""
_AUDIT_FIELDS = """
RETURN a.audit_id AS audit_id, a.user AS user, a.at AS at, a.action AS action,
       a.sense_ids AS sense_ids, a.before AS before, a.after AS after, a.undone AS undone
ORDER BY a.at DESC, a.seq DESC LIMIT $limit
"""
AUDIT_ALL = "MATCH (a:Audit)" + _AUDIT_FIELDS
AUDIT_FOR_SENSE = "MATCH (a:Audit) WHERE $sense_id IN a.sense_ids" + _AUDIT_FIELDS
MARK_UNDONE = "UNWIND $rows AS row MATCH (a:Audit {audit_id: row.audit_id}) SET a.undone = true RETURN count(a) AS marked"

# -- inverse edits (apply_patch, one transaction) ------------------------------------------------------
GET_ENTITIES = "UNWIND $ids AS id MATCH (e:Entity {id: id}) RETURN e.id AS id, e.name AS name"
HAS_SENSE_OF = """
UNWIND $ids AS id
MATCH (e:Entity)-[h:HAS_SENSE]->(s:Sense {sense_id: id})
RETURN e.id AS entity_id, s.sense_id AS sense_id, h.rank AS rank ORDER BY sense_id, entity_id
"""
LINKS_OF_ENTITIES = """
UNWIND $ids AS id
MATCH (e:Entity {id: id})-[h:HAS_SENSE]->(s:Sense)
RETURN e.id AS entity_id, s.sense_id AS sense_id, h.rank AS rank
"""
MISSING_ENTITIES = "UNWIND $ids AS id OPTIONAL MATCH (e:Entity {id: id}) WITH id, e WHERE e IS NULL RETURN id"
# An Alias node is keyed by (lang, text) and may name several entities: it goes with its last NAMES.
DELETE_ENTITIES = """
UNWIND $rows AS row
MATCH (e:Entity {id: row.id})
OPTIONAL MATCH (a:Alias)-[:NAMES]->(e)
WITH e, collect(a) AS names
DETACH DELETE e
WITH collect(names) AS groups, count(*) AS deleted
CALL (groups) {
  UNWIND groups AS names
  UNWIND names AS a
  WITH DISTINCT a WHERE NOT EXISTS { (a)-[:NAMES]->() }
  DELETE a
}
RETURN deleted
"""
DELETE_ALIASES = """
UNWIND $rows AS row
MATCH (a:Alias {key: row.key})-[n:NAMES]->(:Entity {id: row.entity_id})
DELETE n
WITH collect(DISTINCT a) AS touched, count(*) AS deleted
CALL (touched) {
  UNWIND touched AS a
  WITH a WHERE NOT EXISTS { (a)-[:NAMES]->() }
  DELETE a
}
RETURN deleted
"""
DELETE_HAS_SENSE = """
UNWIND $rows AS row
MATCH (:Entity {id: row.entity_id})-[h:HAS_SENSE]->(:Sense {sense_id: row.sense_id})
DELETE h
RETURN count(*) AS deleted
"""
DELETE_RELATIONS = """
UNWIND $rows AS row
MATCH (:Sense {sense_id: row.source})-[r:RELATED {type: row.type}]->(:Sense {sense_id: row.target})
DELETE r
RETURN count(*) AS deleted
"""
# Written exactly as given, an editor edge included: an undo restores what a curator replaced.
PUT_EVIDENCE = """
UNWIND $rows AS row
MATCH (m:Media {media_id: row.media_id})
MATCH (s:Sense {sense_id: row.sense_id})
MERGE (m)-[e:EVIDENCE]->(s)
SET e.confidence = row.confidence, e.source = row.source, e.detached = row.detached,
    e.mention = row.mention
RETURN count(e) AS written
"""
SET_LABEL_GLOSS = """
UNWIND $rows AS row
MATCH (s:Sense {sense_id: row.sense_id})
SET s.label = row.label, s.gloss = row.gloss
RETURN count(s) AS written
"""
SET_REDIRECTS = """
UNWIND $rows AS row
MATCH (s:Sense {sense_id: row.sense_id})
SET s.redirect_to = row.target
RETURN count(s) AS written
"""
# apply_patch: the statement of each GraphPatch field (graph/core.py PATCH_STEPS gives the order)
PATCH = {
    "delete_entities": DELETE_ENTITIES, "delete_aliases": DELETE_ALIASES, "delete_has_sense": DELETE_HAS_SENSE,
    "delete_relations": DELETE_RELATIONS, "delete_evidence": DELETE_EVIDENCE,
    "has_sense": UPSERT_HAS_SENSE + " RETURN count(h) AS written",
    "relations": UPSERT_RELATIONS + " RETURN count(r) AS written", "evidence": PUT_EVIDENCE,
    "senses": SET_LABEL_GLOSS, "redirects": SET_REDIRECTS,
}
# the named reads of graph/core.py (``$ids``: one chunk of ids) and the keyset scans (query, the key
# a page ends on, a field every real row has)
READS = {
    "meta": GET_META, "metas": GET_METAS, "redirects": REDIRECTS_OF, "senses": GET_SENSES, "entities": GET_ENTITIES,
    "has_sense_of": HAS_SENSE_OF, "entity_links": LINKS_OF_ENTITIES, "media": GET_MEDIA, "sha256s": MEDIA_SHA256S,
    "media_by_sha256": MEDIA_BY_SHA256, "prototypes_own": GET_OWN_PROTOTYPES,
    "prototypes_propagated": GET_PROPAGATED_PROTOTYPES, "sense_prototypes": SENSE_PROTOTYPES, "neighbours": NEIGHBOURS,
    "aliases_of": ALIASES_OF, "counts": COUNTS, "evidence_all": EVIDENCE_ALL, "evidence_sense": EVIDENCE_OF_SENSE,
    "evidence_media": EVIDENCE_OF_MEDIA, "evidence_sense_media": EVIDENCE_OF_PAIR, "audit_all": AUDIT_ALL,
    "audit_sense": AUDIT_FOR_SENSE, "missing_entities": MISSING_ENTITIES, "missing_senses": MISSING_SENSES,
    "missing_media": MISSING_MEDIA,
    # whole columns for the derived sense graph (gnn/structure.py), cached under the structure revision
    "structure_senses": "MATCH (s:Sense) RETURN s.sense_id AS sense_id, s.redirect_to AS redirect_to",
    "structure_relations": "MATCH (a:Sense)-[r:RELATED]->(b:Sense) RETURN a.sense_id AS source, b.sense_id AS target, r.type AS type",
    "own_prototype_ids": "MATCH (s:Sense) WHERE s.prototype_source IS NOT NULL RETURN s.sense_id AS sense_id",
}
SCANS = {"senses": (SENSES_PAGE, "sense_id", "sense_id"), "media": (MEDIA_PAGE, "media_id", "media_id"),
         "relations": (RELATIONS_FROM_PAGE, "source", "target")}
