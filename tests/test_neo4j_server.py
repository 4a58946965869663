"""The local Neo4j launcher really starts, keeps data across a restart, and stops cleanly."""
from __future__ import annotations

import shutil
import socket

import pytest

from sensegraph.errors import ConfigError, StoreError

pytestmark = [
    pytest.mark.neo4j,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs `java` (JDK 17+) on PATH"),
    pytest.mark.skipif(shutil.which("mvn") is None, reason="needs `mvn` (Maven) to resolve Neo4j"),
]


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


def test_start_write_stop_restart_keeps_data(tmp_path):
    from sensegraph.graph import neo4j_server as srv

    data, port = tmp_path / "neo4j", _free_port()
    st = srv.start(data, port)
    try:
        assert st.running and st.port == port and st.pid
        assert srv.start(data, port).pid == st.pid  # idempotent: the running one is reported
        assert srv.status(data).running
        _query(port, "CREATE (:Probe {name: $name})", name="survives'}) DETACH DELETE n //")
    finally:
        stopped = srv.stop(data)
    assert not stopped.running
    assert not srv.status(data).running
    with socket.socket() as sock:  # the port is free again
        assert sock.connect_ex(("127.0.0.1", port)) != 0

    st2 = srv.start(data, port)
    try:
        assert st2.pid != st.pid
        rows = _query(port, "MATCH (p:Probe) RETURN p.name AS name")
        assert rows == [{"name": "survives'}) DETACH DELETE n //"}]
    finally:
        srv.stop(data)
    assert "sensegraph-neo4j stopped" in srv.log_tail(data)


def test_password_enables_auth(tmp_path):
    from neo4j.exceptions import AuthError

    from sensegraph.graph import neo4j_server as srv

    data, port = tmp_path / "neo4j", _free_port()
    st = srv.start(data, port, password="s3cret-pass")
    try:
        assert st.auth
        assert _query(port, "RETURN 1 AS one", password="s3cret-pass") == [{"one": 1}]
        with pytest.raises(AuthError):
            _query(port, "RETURN 1 AS one", password="wrong-pass")
    finally:
        srv.stop(data)


def test_bad_arguments_and_busy_port(tmp_path):
    from sensegraph.graph import neo4j_server as srv

    with pytest.raises(ConfigError, match="--port"):
        srv.start(tmp_path / "x", 70000)
    with pytest.raises(ConfigError, match="at least 8"):
        srv.start(tmp_path / "x", _free_port(), password="short")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(StoreError, match="already in use"):
            srv.start(tmp_path / "x", busy.getsockname()[1])
    assert not srv.status(tmp_path / "x").running
    assert not srv.stop(tmp_path / "never-started").running
