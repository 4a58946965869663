"""The local Neo4j launcher really starts, keeps data across a restart, and stops cleanly;
Neo4jStore specifics the shared contract suite does not reach (connection errors, index life cycle,
recall of the index path)."""
from __future__ import annotations

import shutil
import socket

import numpy as np
import pytest

from sensegraph.errors import ConfigError, StoreError

def _java_found() -> bool:
    from sensegraph import neo4j_server as srv

    try:
        srv.find_java()
    except ConfigError:
        return False
    return True


LAUNCHER_MARKS = [
    pytest.mark.neo4j,
    pytest.mark.slow,
    pytest.mark.skipif(not _java_found(), reason="needs a Java 21+ JDK (on PATH, $JAVA_HOME or /usr/lib/jvm)"),
    pytest.mark.skipif(shutil.which("mvn") is None, reason="needs `mvn` (Maven) to resolve Neo4j"),
]


def _launcher(fn):
    """Mark a test that starts its own Neo4j (slow; skipped without java/mvn)."""
    for mark in LAUNCHER_MARKS:
        fn = mark(fn)
    return fn


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _query(port: int, cypher: str, password: str | None = None, **params: object) -> list[dict]:
    from neo4j import GraphDatabase

    auth = ("neo4j", password) if password else None
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=auth) as driver:
        records, _, _ = driver.execute_query(cypher, params)
    return [r.data() for r in records]


@_launcher
def test_start_write_stop_restart_keeps_data_and_a_password_turns_auth_on(tmp_path):
    from neo4j.exceptions import AuthError

    from sensegraph import neo4j_server as srv

    data, port = tmp_path / "neo4j", _free_port()
    st = srv.start(data, port)
    try:
        assert st.running and st.port == port and st.pid and not st.auth
        assert srv.start(data, port).pid == st.pid  # idempotent: the running one is reported
        assert srv.status(data).running
        _query(port, "CREATE (:Probe {name: $name})", name="survives'}) DETACH DELETE n //")
    finally:
        stopped = srv.stop(data)
    assert not stopped.running
    assert not srv.status(data).running
    with socket.socket() as sock:  # the port is free again
        assert sock.connect_ex(("127.0.0.1", port)) != 0

    st2 = srv.start(data, port, password="s3cret-pass", pagecache_mb=300)  # same data, now with auth
    try:
        assert st2.pid != st.pid and st2.auth
        setting = _query(port, "SHOW SETTINGS YIELD name, value WHERE name = 'server.memory.pagecache.size' "
                               "RETURN value", password="s3cret-pass")
        assert setting[0]["value"] in {"300.00MiB", str(300 * 1024 * 1024)}
        rows = _query(port, "MATCH (p:Probe) RETURN p.name AS name", password="s3cret-pass")
        assert rows == [{"name": "survives'}) DETACH DELETE n //"}]
        with pytest.raises(AuthError):
            _query(port, "RETURN 1 AS one", password="wrong-pass")
        # a vector query makes Lucene pick its vector scorer, and log whether it runs on the Vector API
        _query(port, "CREATE VECTOR INDEX probe_v IF NOT EXISTS FOR (p:Probe) ON (p.v) OPTIONS "
                     "{indexConfig: {`vector.dimensions`: 3, `vector.similarity_function`: 'cosine'}}",
               password="s3cret-pass")
        _query(port, "MATCH (p:Probe) SET p.v = [1.0, 0.0, 0.5]", password="s3cret-pass")
        _query(port, "CALL db.awaitIndexes(60)", password="s3cret-pass")
        hits = _query(port, "CALL db.index.vector.queryNodes('probe_v', 1, [1.0, 0.0, 0.5]) YIELD node, score "
                            "RETURN node.name AS name, score", password="s3cret-pass")
        assert hits == [{"name": "survives'}) DETACH DELETE n //", "score": pytest.approx(1.0)}]
    finally:
        srv.stop(data)
    log = srv.log_tail(data, lines=400)
    assert "sensegraph-neo4j stopped" in log
    assert "Java vector incubator API enabled" in log  # Lucene scores the vector indexes with SIMD


@_launcher
def test_bad_arguments_and_busy_port(tmp_path):
    from sensegraph import neo4j_server as srv

    with pytest.raises(ConfigError, match="--port"):
        srv.start(tmp_path / "x", 70000)
    with pytest.raises(ConfigError, match="at least 8"):
        srv.start(tmp_path / "x", _free_port(), password="short")
    with pytest.raises(ConfigError, match="--pagecache-mb"):
        srv.start(tmp_path / "x", _free_port(), pagecache_mb=0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(StoreError, match="already in use"):
            srv.start(tmp_path / "x", busy.getsockname()[1])
    assert not srv.status(tmp_path / "x").running
    assert not srv.stop(tmp_path / "never-started").running


def _fake_java(path, release: int, *, jdk: bool = True):
    """An executable that answers ``-XshowSettings:properties -version`` as a Java of ``release`` would
    (with a ``javac`` beside it when ``jdk``: the launcher is a source file, which a JRE cannot run)."""
    path.write_text(f"#!/bin/sh\necho '    java.specification.version = {release}' >&2\n")
    path.chmod(0o755)
    if jdk:
        (path.parent / "javac").write_text("#!/bin/sh\n")
    return str(path)


def test_find_java_takes_sensegraph_java_first_and_names_one_too_old(tmp_path, monkeypatch):
    from sensegraph import neo4j_server as srv

    (tmp_path / "jdk25").mkdir()
    new = _fake_java(tmp_path / "jdk25" / "java", 25)
    monkeypatch.setenv("SENSEGRAPH_JAVA", new)
    assert srv.find_java() == (new, 25)
    (tmp_path / "jdk17").mkdir()
    old = _fake_java(tmp_path / "jdk17" / "java", 17)
    monkeypatch.setenv("SENSEGRAPH_JAVA", old)
    with pytest.raises(ConfigError, match=r"jdk17/java is not a Java 21\+ JDK \(found Java 17\)"):
        srv.find_java()
    (tmp_path / "jre25").mkdir()
    jre = _fake_java(tmp_path / "jre25" / "java", 25, jdk=False)
    monkeypatch.setenv("SENSEGRAPH_JAVA", jre)
    with pytest.raises(ConfigError, match=r"found Java 25, and no javac beside it"):
        srv.find_java()


def test_find_java_skips_old_ones_and_says_what_to_install(tmp_path, monkeypatch):
    from sensegraph import neo4j_server as srv

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_java(bin_dir / "java", 17)
    jvm = tmp_path / "jvm"
    (jvm / "jdk-21" / "bin").mkdir(parents=True)
    newer = _fake_java(jvm / "jdk-21" / "bin" / "java", 21)
    monkeypatch.delenv("SENSEGRAPH_JAVA", raising=False)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(srv, "JVM_DIR", str(jvm))
    assert srv.find_java() == (newer, 21)  # the PATH's Java 17 is passed over
    (jvm / "jdk-21" / "bin" / "java").unlink()
    with pytest.raises(ConfigError, match="needs a Java 21\\+ JDK.*openjdk-21-jdk-headless"):
        srv.find_java()


# -- Neo4jStore specifics ----------------------------------------------------------------------------


def test_unreachable_neo4j_is_a_store_error_with_the_start_hint():
    from sensegraph.graph.neo4j_store import Neo4jStore

    port = _free_port()  # nothing listens there
    with pytest.raises(StoreError, match=rf"cannot reach Neo4j at bolt://127.0.0.1:{port}.*sensegraph neo4j start"):
        Neo4jStore(f"bolt://127.0.0.1:{port}", connection_timeout=2.0)


def test_identifiers_come_only_from_the_allow_list():
    from sensegraph.graph import cypher

    assert cypher.ident("Sense") == "`Sense`"
    assert "`sg_media_embedding`" in cypher.create_vector_index("sg_media_embedding")
    with pytest.raises(ConfigError, match="allow-list"):
        cypher.ident("Sense`) DETACH DELETE n //")


def _vector_indexes(store) -> dict[str, int]:
    from sensegraph.graph import cypher

    return {r["name"]: int(r["dims"]) for r in store._run(cypher.SHOW_VECTOR_INDEXES)}


@pytest.mark.neo4j
def test_bind_creates_online_cosine_indexes_and_a_rebind_after_wipe_resizes_them(neo4j_store):
    neo4j_store.bind_encoder("enc-a", 8, 6)
    assert _vector_indexes(neo4j_store) == {"sg_media_embedding": 8, "sg_media_features": 6,
                                           "sg_media_paired": 8 + 6 + 1,  # [joint | native | norm pad]
                                           "sg_sense_prototype": 6, "sg_sense_propagated": 6}
    states = {r["name"]: r["state"] for r in neo4j_store._run("SHOW VECTOR INDEXES YIELD name, state")}
    assert set(states.values()) == {"ONLINE"}
    config = neo4j_store._run("SHOW VECTOR INDEXES YIELD name, options WHERE name = 'sg_media_embedding' "
                              "RETURN options.indexConfig AS config")[0]["config"]
    assert (config["vector.hnsw.m"], config["vector.hnsw.ef_construction"]) == (32, 200)
    # exact float32 scores (the engine keeps the index's score): 5.26 says enabled false, 2025.x+ type NONE
    assert config.get("vector.quantization.enabled") is False or config.get("vector.quantization.type") == "NONE"
    neo4j_store.wipe()  # the binding goes, the schema stays
    assert neo4j_store.get_meta("encoder_id") is None
    neo4j_store.bind_encoder("enc-b", 16, 12)
    assert _vector_indexes(neo4j_store)["sg_media_embedding"] == 16
    assert _vector_indexes(neo4j_store)["sg_media_paired"] == 16 + 12 + 1
    assert _vector_indexes(neo4j_store)["sg_sense_prototype"] == 12


@pytest.mark.neo4j
def test_index_search_matches_exact_top_k_on_random_vectors(neo4j_store):
    from sensegraph.graph.model import Media, MediaFilter

    rng = np.random.default_rng(7)
    n, dim = 1500, 64
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.array([f"m{i:04d}" for i in range(n)])
    neo4j_store.bind_encoder("enc", dim, dim)
    neo4j_store.upsert_media([Media(ids[i], "u", "video" if i % 3 == 0 else "image", embedding=vecs[i])
                              for i in range(n)])
    neo4j_store._run("CALL db.awaitIndexes(300)")
    hits = 0
    for q in rng.normal(size=(10, dim)).astype(np.float32):
        q /= np.linalg.norm(q)
        got = neo4j_store.search_media(q, 10)
        want = ids[np.argsort(-(vecs @ q))[:10]]
        hits += len(set(want) & {m for m, _ in got})
        exact = [float(vecs[int(m[1:])] @ q) for m, _ in got]  # scores are plain cosines
        np.testing.assert_allclose([s for _, s in got], exact, atol=1e-5)
        videos = neo4j_store.search_media(q, 25, filters=MediaFilter(modality="video"))
        assert len(videos) == 25 and all(int(m[1:]) % 3 == 0 for m, _ in videos)
    assert hits / 100 >= 0.95
