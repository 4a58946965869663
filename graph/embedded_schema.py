"""SQLite schema and statements of the embedded store: one table per node/edge kind of the graph model.

Every user string is a ``?``/``:name`` parameter. ``counters`` holds the write revision (bumped
once per write transaction and stamped on changed media rows, so vector caches reload only what
changed), ``proto_rev`` (prototype changes) and ``epoch`` (wipes: everything cached is stale).
"""
from __future__ import annotations

SCHEMA_VERSION = "1"

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entities (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aliases (
    text TEXT NOT NULL, lang TEXT NOT NULL, entity_id TEXT NOT NULL,
    PRIMARY KEY (text, lang, entity_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_entity ON aliases (entity_id);
CREATE TABLE IF NOT EXISTS senses (
    sense_id TEXT PRIMARY KEY, label TEXT NOT NULL, gloss TEXT NOT NULL DEFAULT '',
    redirect_to TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS has_sense (
    entity_id TEXT NOT NULL, sense_id TEXT NOT NULL, rank INTEGER NOT NULL,
    PRIMARY KEY (entity_id, sense_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS has_sense_sense ON has_sense (sense_id);
CREATE TABLE IF NOT EXISTS relations (
    source TEXT NOT NULL, target TEXT NOT NULL, type TEXT NOT NULL, weight REAL NOT NULL,
    PRIMARY KEY (source, target, type)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relations_target ON relations (target);
CREATE TABLE IF NOT EXISTS media (
    id INTEGER PRIMARY KEY, media_id TEXT NOT NULL UNIQUE, uri TEXT NOT NULL,
    modality TEXT NOT NULL, sha256 TEXT NOT NULL DEFAULT '', caption TEXT,
    metadata TEXT NOT NULL DEFAULT '{}', embedding BLOB, features BLOB, rev INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS media_sha ON media (sha256);
CREATE INDEX IF NOT EXISTS media_rev ON media (rev);
CREATE TABLE IF NOT EXISTS evidence (
    media_id TEXT NOT NULL, sense_id TEXT NOT NULL, confidence REAL NOT NULL,
    source TEXT NOT NULL, detached INTEGER NOT NULL DEFAULT 0, mention TEXT,
    PRIMARY KEY (media_id, sense_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS evidence_sense ON evidence (sense_id, detached);
CREATE INDEX IF NOT EXISTS evidence_source ON evidence (source);
CREATE TABLE IF NOT EXISTS prototypes (
    sense_id TEXT NOT NULL, slot TEXT NOT NULL CHECK (slot IN ('own', 'propagated')),
    vector BLOB NOT NULL, source TEXT NOT NULL, media_count INTEGER NOT NULL,
    strategy TEXT NOT NULL, confidence REAL NOT NULL, joint BLOB,
    weight REAL NOT NULL DEFAULT 0, norm REAL NOT NULL DEFAULT 1,
    PRIMARY KEY (sense_id, slot)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS prototypes_source ON prototypes (slot, source);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, audit_id TEXT NOT NULL UNIQUE, user TEXT NOT NULL,
    at TEXT NOT NULL, action TEXT NOT NULL, sense_ids TEXT NOT NULL, before TEXT NOT NULL,
    after TEXT NOT NULL, undone INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS audit_senses (
    audit_id TEXT NOT NULL, sense_id TEXT NOT NULL, PRIMARY KEY (sense_id, audit_id)) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (name, value) VALUES ('rev', 0), ('proto_rev', 0), ('epoch', 0);
"""

TABLES = (
    "meta", "counters", "entities", "aliases", "senses", "has_sense", "relations", "media",
    "evidence", "prototypes", "audit", "audit_senses",
)

# -- counters -------------------------------------------------------------------------------------
BUMP_REV = "UPDATE counters SET value = value + 1 WHERE name = 'rev' RETURNING value"
BUMP_PROTO = "UPDATE counters SET value = value + 1 WHERE name = 'proto_rev'"
BUMP_EPOCH = "UPDATE counters SET value = value + 1 WHERE name = 'epoch'"
READ_COUNTERS = "SELECT name, value FROM counters"

# -- meta -----------------------------------------------------------------------------------------
GET_META = "SELECT value FROM meta WHERE key = ?"
SET_META = "INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO UPDATE SET value = excluded.value"

# -- knowledge graph upserts -------------------------------------------------------------------------
UPSERT_ENTITY = (
    "INSERT INTO entities (id, name) VALUES (:id, :name) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name"
)
UPSERT_ALIAS = "INSERT OR IGNORE INTO aliases (text, lang, entity_id) VALUES (:text, :lang, :entity_id)"
UPSERT_SENSE = (
    "INSERT INTO senses (sense_id, label, gloss, redirect_to) VALUES (:sense_id, :label, :gloss, :redirect_to) "
    "ON CONFLICT (sense_id) DO UPDATE SET label = excluded.label, gloss = excluded.gloss"
)
UPSERT_HAS_SENSE = (
    "INSERT INTO has_sense (entity_id, sense_id, rank) VALUES (:entity_id, :sense_id, :rank) "
    "ON CONFLICT (entity_id, sense_id) DO UPDATE SET rank = excluded.rank"
)
UPSERT_RELATION = (
    "INSERT INTO relations (source, target, type, weight) VALUES (:source, :target, :type, :weight) "
    "ON CONFLICT (source, target, type) DO UPDATE SET weight = excluded.weight"
)

# -- media and evidence ---------------------------------------------------------------------------------
UPSERT_MEDIA = """
INSERT INTO media (media_id, uri, modality, sha256, caption, metadata, embedding, features, rev)
VALUES (:media_id, :uri, :modality, :sha256, :caption, :metadata, :embedding, :features, :rev)
ON CONFLICT (media_id) DO UPDATE SET
    uri = excluded.uri, modality = excluded.modality, sha256 = excluded.sha256,
    caption = excluded.caption, metadata = excluded.metadata,
    embedding = COALESCE(excluded.embedding, media.embedding),
    features = COALESCE(excluded.features, media.features),
    rev = excluded.rev
WHERE media.uri IS NOT excluded.uri OR media.modality IS NOT excluded.modality
   OR media.sha256 IS NOT excluded.sha256 OR media.caption IS NOT excluded.caption
   OR media.metadata IS NOT excluded.metadata
   OR (excluded.embedding IS NOT NULL AND media.embedding IS NOT excluded.embedding)
   OR (excluded.features IS NOT NULL AND media.features IS NOT excluded.features)
"""
# An editor edge (pinned or detached) is only replaced by another editor edge; edges to media or
# senses that do not exist are not written (a MATCH in Cypher).
UPSERT_EVIDENCE = """
INSERT INTO evidence (media_id, sense_id, confidence, source, detached, mention)
SELECT :media_id, :sense_id, :confidence, :source, :detached, :mention
WHERE EXISTS (SELECT 1 FROM media WHERE media_id = :media_id)
  AND EXISTS (SELECT 1 FROM senses WHERE sense_id = :sense_id)
ON CONFLICT (media_id, sense_id) DO UPDATE SET
    confidence = excluded.confidence, source = excluded.source,
    detached = excluded.detached, mention = excluded.mention
WHERE evidence.source != 'editor' OR excluded.source = 'editor'
"""
DELETE_EVIDENCE = "DELETE FROM evidence WHERE media_id = :media_id AND sense_id = :sense_id"

# -- reads ----------------------------------------------------------------------------------------------
SENSE_COLUMNS = """
SELECT s.sense_id AS sense_id, s.label AS label, s.gloss AS gloss, s.redirect_to AS redirect_to,
    (SELECT count(*) FROM evidence e WHERE e.sense_id = s.sense_id AND e.detached = 0) AS media_count,
    (SELECT p.source FROM prototypes p WHERE p.sense_id = s.sense_id AND p.slot = 'own') AS prototype_source
FROM senses s
"""
# The sense finder's candidates: one row per sense (alias NULL) and one per alias that matched;
# :last is the last position the needle may start at (1: names that start with it; huge: anywhere).
SENSE_CANDIDATES = """
SELECT s.sense_id, s.label, s.redirect_to,
    (SELECT count(*) FROM evidence e WHERE e.sense_id = s.sense_id AND e.detached = 0), m.alias
FROM (
    SELECT sense_id, NULL AS alias FROM senses
    WHERE instr(sg_lower(sense_id), :q) BETWEEN 1 AND :last OR instr(sg_lower(label), :q) BETWEEN 1 AND :last
    UNION
    SELECT h.sense_id, a.text FROM aliases a JOIN has_sense h ON h.entity_id = a.entity_id
    WHERE instr(sg_lower(a.text), :q) BETWEEN 1 AND :last
) m JOIN senses s ON s.sense_id = m.sense_id
"""
ALIASES_OF = """
SELECT DISTINCT a.text, a.entity_id, a.lang FROM has_sense h JOIN aliases a ON a.entity_id = h.entity_id
WHERE h.sense_id = :sense_id ORDER BY h.rank, a.entity_id, a.text, a.lang
"""
ALIAS_TABLE = """
SELECT a.text, a.lang, a.entity_id, h.sense_id, h.rank
FROM aliases a JOIN has_sense h ON h.entity_id = a.entity_id
"""
IDS = "(SELECT value FROM ids)"  # the ids of one chunk: the `ids` table embedded.py puts before the statement
RELATION_COLUMNS = "SELECT source, target, type, weight FROM relations"
NEIGHBOURS = (RELATION_COLUMNS + f" WHERE source IN {IDS} UNION ALL "
              + RELATION_COLUMNS + f" WHERE target IN {IDS} AND source != target")
EVIDENCE_COLUMNS = "SELECT media_id, sense_id, confidence, source, detached, mention FROM evidence"
MEDIA_COLUMNS = ("SELECT id, media_id, uri, modality, sha256, caption, metadata, CASE WHEN :vectors THEN embedding END"
                 " AS embedding, CASE WHEN :vectors THEN features END AS features FROM media")
MEDIA_CHANGED = "SELECT id, media_id, modality, {column} FROM media WHERE rev > ? AND {column} IS NOT NULL"
# the media an ANN index sync adds: those written in one revision window with a vector
MEDIA_WINDOW_KEYS = "SELECT id FROM media WHERE rev > ? AND rev <= ? AND (embedding IS NOT NULL OR features IS NOT NULL)"
COUNTS = """
SELECT
  (SELECT count(*) FROM entities) AS entities,
  (SELECT count(*) FROM (SELECT DISTINCT text, lang FROM aliases)) AS aliases,
  (SELECT count(*) FROM senses) AS senses,
  (SELECT count(*) FROM relations) AS relations,
  (SELECT count(*) FROM media) AS media,
  (SELECT count(*) FROM evidence) AS evidence,
  (SELECT count(*) FROM prototypes WHERE slot = 'own' AND source = 'media') AS prototypes_media,
  (SELECT count(*) FROM prototypes WHERE slot = 'own' AND source = 'curated') AS prototypes_curated,
  (SELECT count(*) FROM prototypes WHERE slot = 'propagated') AS prototypes_propagated,
  (SELECT count(*) FROM evidence WHERE source = 'gated' AND detached = 0) AS evidence_gated
"""
MEDIA_WITH_SENSE = "SELECT media_id FROM evidence WHERE sense_id = ? AND detached = 0"
MEDIA_WITH_SOURCE = "SELECT DISTINCT media_id FROM evidence WHERE source = ?"

# -- prototypes -----------------------------------------------------------------------------------------
UPSERT_PROTOTYPE = """
INSERT INTO prototypes (sense_id, slot, vector, source, media_count, strategy, confidence, joint, weight, norm)
SELECT :sense_id, :slot, :vector, :source, :media_count, :strategy, :confidence, :joint, :weight, :norm
WHERE EXISTS (SELECT 1 FROM senses WHERE sense_id = :sense_id)
ON CONFLICT (sense_id, slot) DO UPDATE SET
    vector = excluded.vector, source = excluded.source, media_count = excluded.media_count,
    strategy = excluded.strategy, confidence = excluded.confidence, joint = excluded.joint,
    weight = excluded.weight, norm = excluded.norm
WHERE NOT (prototypes.source = 'curated' AND excluded.source = 'media')
"""
CLEAR_PROTOTYPE = "DELETE FROM prototypes WHERE sense_id = :sense_id AND slot = '{slot}'"
PROTOTYPE_COLUMNS = (
    "SELECT sense_id, vector, source, media_count, strategy, confidence, joint, weight, norm "
    "FROM prototypes WHERE slot = '{slot}' AND sense_id IN " + IDS
)

# -- edits ----------------------------------------------------------------------------------------------
SET_REDIRECT = "UPDATE senses SET redirect_to = :target WHERE sense_id = :sense_id"
REPLACE_EDGE = """
INSERT INTO evidence (media_id, sense_id, confidence, source, detached, mention)
VALUES (:media_id, :sense_id, :confidence, :source, :detached, :mention) ON CONFLICT (media_id, sense_id) DO UPDATE SET confidence = excluded.confidence,
    source = excluded.source, detached = excluded.detached, mention = excluded.mention
"""

# -- audit ----------------------------------------------------------------------------------------------
INSERT_AUDIT = """
INSERT INTO audit (audit_id, user, at, action, sense_ids, before, after, undone)
VALUES (:audit_id, :user, :at, :action, :sense_ids, :before, :after, :undone)
ON CONFLICT (audit_id) DO UPDATE SET user = excluded.user, at = excluded.at, action = excluded.action,
    sense_ids = excluded.sense_ids, before = excluded.before, after = excluded.after, undone = excluded.undone
"""
INSERT_AUDIT_SENSE = "INSERT OR IGNORE INTO audit_senses (audit_id, sense_id) VALUES (:audit_id, :sense_id)"
AUDIT_COLUMNS = "SELECT audit_id, user, at, action, sense_ids, before, after, undone FROM audit"
AUDIT_ORDER = " ORDER BY at DESC, seq DESC LIMIT :limit"
MARK_UNDONE = "UPDATE audit SET undone = 1 WHERE audit_id = :audit_id"

# -- inverse edits (apply_patch) -----------------------------------------------------------------------
ENTITY_COLUMNS = "SELECT id, name FROM entities"
DELETE_ENTITY = "DELETE FROM entities WHERE id = :id"
DELETE_ALIASES_OF_ENTITY = "DELETE FROM aliases WHERE entity_id = :id"
DELETE_HAS_SENSE_OF_ENTITY = "DELETE FROM has_sense WHERE entity_id = :id"
DELETE_ALIAS = "DELETE FROM aliases WHERE text = :text AND lang = :lang AND entity_id = :entity_id"
DELETE_HAS_SENSE = "DELETE FROM has_sense WHERE entity_id = :entity_id AND sense_id = :sense_id"
DELETE_RELATION = "DELETE FROM relations WHERE source = :source AND target = :target AND type = :type"
SET_LABEL_GLOSS = "UPDATE senses SET label = :label, gloss = :gloss WHERE sense_id = :sense_id"
HAS_SENSE_COLUMNS = "SELECT entity_id, sense_id, rank FROM has_sense"
MISSING = "SELECT j.value AS id FROM ids j WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = j.value)"
# apply_patch: the statements of each GraphPatch field (graph/core.py PATCH_STEPS gives the order)
PATCH = {
    "delete_entities": (DELETE_ALIASES_OF_ENTITY, DELETE_HAS_SENSE_OF_ENTITY, DELETE_ENTITY),
    "delete_aliases": (DELETE_ALIAS,), "delete_has_sense": (DELETE_HAS_SENSE,), "delete_relations": (DELETE_RELATION,),
    "delete_evidence": (DELETE_EVIDENCE,), "has_sense": (UPSERT_HAS_SENSE,), "relations": (UPSERT_RELATION,),
    "evidence": (REPLACE_EDGE,), "senses": (SET_LABEL_GLOSS,), "redirects": (SET_REDIRECT,),
}

# -- the adapter's tables (graph/core.py names the kinds and reads) -----------------------------------
PUT = {"meta": SET_META, "entities": UPSERT_ENTITY, "aliases": UPSERT_ALIAS, "senses": UPSERT_SENSE,
       "has_sense": UPSERT_HAS_SENSE, "relations": UPSERT_RELATION, "evidence": UPSERT_EVIDENCE,
       "delete_evidence": DELETE_EVIDENCE, "media": UPSERT_MEDIA, "prototypes": UPSERT_PROTOTYPE,
       "clear_own": CLEAR_PROTOTYPE.format(slot="own"), "clear_propagated": CLEAR_PROTOTYPE.format(slot="propagated"),
       "audit": INSERT_AUDIT, "mark_undone": MARK_UNDONE}
_EVIDENCE_ORDER = " ORDER BY sense_id, media_id"
READS = {
    "meta": "SELECT value FROM meta WHERE key = :key",
    "metas": "SELECT key, value FROM meta WHERE key IN " + IDS,
    "redirects": "SELECT sense_id, redirect_to FROM senses WHERE sense_id IN " + IDS,
    "senses": SENSE_COLUMNS + " WHERE s.sense_id IN " + IDS,
    "entities": ENTITY_COLUMNS + " WHERE id IN " + IDS,
    "has_sense_of": HAS_SENSE_COLUMNS + " WHERE sense_id IN " + IDS,
    "entity_links": HAS_SENSE_COLUMNS + " WHERE entity_id IN " + IDS,
    "media": MEDIA_COLUMNS + " WHERE media_id IN " + IDS,
    "sha256s": "SELECT media_id, sha256 FROM media WHERE media_id IN " + IDS,
    "media_by_sha256": MEDIA_COLUMNS + " WHERE sha256 = :sha256 ORDER BY id LIMIT 1",
    "prototypes_own": PROTOTYPE_COLUMNS.format(slot="own"),
    "prototypes_propagated": PROTOTYPE_COLUMNS.format(slot="propagated"),
    "neighbours": NEIGHBOURS,
    "aliases_of": ALIASES_OF,
    "counts": COUNTS,
    "evidence_all": EVIDENCE_COLUMNS + _EVIDENCE_ORDER,
    "evidence_sense": EVIDENCE_COLUMNS + " WHERE sense_id = :sense_id" + _EVIDENCE_ORDER,
    "evidence_media": EVIDENCE_COLUMNS + " WHERE media_id = :media_id" + _EVIDENCE_ORDER,
    "evidence_sense_media": EVIDENCE_COLUMNS + " WHERE sense_id = :sense_id AND media_id = :media_id",
    "audit_all": AUDIT_COLUMNS + AUDIT_ORDER,
    "audit_sense": AUDIT_COLUMNS + " WHERE audit_id IN (SELECT audit_id FROM audit_senses WHERE sense_id = :sense_id)" + AUDIT_ORDER,
    "missing_entities": MISSING.format(table="entities", key="id"),
    "missing_senses": MISSING.format(table="senses", key="sense_id"),
    "missing_media": MISSING.format(table="media", key="media_id"),
    # whole columns for the derived sense graph (gnn/structure.py), cached under the structure revision
    "structure_senses": "SELECT sense_id, redirect_to FROM senses",
    "structure_relations": "SELECT source, target, type FROM relations",
    "own_prototype_ids": "SELECT sense_id FROM prototypes WHERE slot = 'own'",
}
# keyset scans: the statement and its key columns with the values a scan starts after
SCANS = {
    "senses": (SENSE_COLUMNS + " WHERE s.sense_id > :sense_id ORDER BY s.sense_id LIMIT :limit", {"sense_id": ""}),
    "relations": (RELATION_COLUMNS + " WHERE (source, target, type) > (:source, :target, :type)"
                  " ORDER BY source, target, type LIMIT :limit", {"source": "", "target": "", "type": ""}),
    # by media_id, as Neo4j pages them: a sample of the first media (the centring mean) is the same on both
    "media": (MEDIA_COLUMNS + " WHERE media_id > :media_id ORDER BY media_id LIMIT :limit", {"media_id": ""}),
}
