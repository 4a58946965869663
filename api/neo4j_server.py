"""Start, stop and inspect a local Neo4j 2026.08 (Java 21+) for machines without Docker.

``deploy/neo4j/pom.xml`` pulls the embedded DBMS from Maven Central (``mvn`` runs once; the classpath
is cached under ``~/.cache/sensegraph``, keyed by the pom's hash) and ``deploy/neo4j/Launcher.java``
runs as a single-file Java program with Bolt on ``127.0.0.1:PORT``. The process is detached, with a
pidfile and a log in the data directory, so ``start`` and ``stop`` can be separate commands.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from sensegraph.errors import ConfigError, StoreError

PIDFILE = "sensegraph-neo4j.pid"
LOGFILE = "sensegraph-neo4j.log"
PASSWORD_ENV = "SENSEGRAPH_NEO4J_PASSWORD"  # read by Launcher.java; keeps the password out of `ps`
DEPLOY_ENV = "SENSEGRAPH_NEO4J_DEPLOY"
DEFAULT_PORT = 7687
DEFAULT_HEAP = "1g"
DEFAULT_PAGECACHE_MB = 256  # enough for tests; a million media with vectors wants a few GB
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
READY_MARK = b"sensegraph-neo4j ready"
NEO4J_SERIES = "2026.08"  # deploy/neo4j/pom.xml pins the release; docs/neo4j.md says why not 5.26
MIN_JAVA = 21  # Neo4j 2025.x and later are built for Java 21
JAVA_ENV = "SENSEGRAPH_JAVA"  # a java binary to use before $JAVA_HOME and the PATH
JVM_DIR = "/usr/lib/jvm"


def jvm_options(release: int) -> list[str]:
    """JVM flags beyond the heap: Lucene's SIMD vector scoring (the Vector API is an incubator module,
    off unless added), the page cache's direct-buffer access, and quiet native access on Java 22+."""
    options = ["--add-modules=jdk.incubator.vector", "--add-opens=java.base/java.nio=ALL-UNNAMED"]
    if release >= 22:
        options.append("--enable-native-access=ALL-UNNAMED")
    return options


@dataclass(frozen=True)
class ServerStatus:
    """What ``status`` reports: whether the launcher runs for a data directory, and where."""

    running: bool
    data: str
    pid: int | None = None
    port: int | None = None
    auth: bool | None = None
    started_s: float | None = None  # seconds ``start`` waited for Bolt (only from ``start``)

    @property
    def uri(self) -> str | None:
        return f"bolt://127.0.0.1:{self.port}" if self.port else None

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "uri": self.uri}


# -- locating the launcher and its classpath ----------------------------------------------------


def deploy_dir() -> Path:
    """``deploy/neo4j`` of this checkout (or ``$SENSEGRAPH_NEO4J_DEPLOY``)."""
    path = Path(os.environ.get(DEPLOY_ENV) or Path(__file__).resolve().parents[1] / "deploy" / "neo4j")
    if not (path / "pom.xml").is_file() or not (path / "Launcher.java").is_file():
        raise ConfigError(
            f"no Neo4j launcher at {path} (needs pom.xml and Launcher.java); run from a source "
            f"checkout, set ${DEPLOY_ENV}, or use `docker compose up -d` instead"
        )
    return path


def cache_dir() -> Path:
    """Where the resolved classpath is cached: ``$XDG_CACHE_HOME/sensegraph`` or ``~/.cache/sensegraph``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sensegraph"


def java_version(java: str) -> int | None:
    """The feature release of the ``java`` at this path (17, 21, 25, ...), or None when it does not run."""
    try:
        proc = subprocess.run([java, "-XshowSettings:properties", "-version"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"^\s*java\.specification\.version = (\d+)", proc.stderr, re.MULTILINE)
    return int(match.group(1)) if match else None


def find_java() -> tuple[str, int]:
    """A ``java`` of release MIN_JAVA or newer, with its release: ``$SENSEGRAPH_JAVA``, ``$JAVA_HOME``, the
    PATH, then ``/usr/lib/jvm/*`` (where Debian and Temurin install JDKs beside the default one)."""
    named = [os.environ.get(JAVA_ENV), os.environ.get("JAVA_HOME") and str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")]
    seen: list[str] = []
    for java in [*(j for j in named if j), shutil.which("java"), *map(str, sorted(Path(JVM_DIR).glob("*/bin/java")))]:
        if java is None or java in seen:
            continue
        seen.append(java)
        version = java_version(java)
        jdk = (Path(java).resolve().parent / "javac").exists()  # the launcher is a source file: a JRE cannot run it
        if version is not None and version >= MIN_JAVA and jdk:
            return java, version
        if java == os.environ.get(JAVA_ENV):
            found = f"Java {version}" if version else "no runnable java"
            raise ConfigError(f"${JAVA_ENV}={java} is not a Java {MIN_JAVA}+ JDK (found {found}"
                              f"{'' if jdk else ', and no javac beside it'})")
    raise ConfigError(
        f"Neo4j {NEO4J_SERIES} needs a Java {MIN_JAVA}+ JDK; none among {seen or ['(no java on PATH)']}: install one "
        f"(e.g. `apt-get install openjdk-21-jdk-headless` or Temurin 21/25) and put it on PATH or set ${JAVA_ENV}, "
        "or use `docker compose up -d`"
    )


def _require(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ConfigError(f"`{tool}` is not on PATH; {why}")
    return path


def resolve_classpath(deploy: Path | None = None, *, refresh: bool = False) -> str:
    """The DBMS classpath: from the cache when every jar still exists, else from ``mvn`` (once)."""
    deploy = deploy or deploy_dir()
    pom = deploy / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"neo4j-classpath-{digest}.txt"
    if cached.is_file() and not refresh:
        classpath = cached.read_text().strip()
        if classpath and all(Path(jar).is_file() for jar in classpath.split(os.pathsep)):
            return classpath
    mvn = _require("mvn", "install Maven (e.g. `apt-get install maven`) or use `docker compose up -d`")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    cmd = [mvn, "-q", "-B", "-f", str(pom), "dependency:build-classpath", f"-Dmdep.outputFile={tmp}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise StoreError(f"mvn did not resolve the Neo4j classpath within {exc.timeout:.0f} s") from None
    if proc.returncode != 0 or not tmp.is_file():
        tail = (proc.stdout + proc.stderr).strip()[-2000:]
        raise StoreError(f"mvn could not resolve Neo4j from {pom} (exit {proc.returncode}):\n{tail}")
    os.replace(tmp, cached)
    return cached.read_text().strip()


# -- the pidfile ----------------------------------------------------------------------------------


def _pidfile(data: Path) -> Path:
    return data / PIDFILE


def _read_pidfile(data: Path) -> dict[str, object] | None:
    try:
        return json.loads(_pidfile(data).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _alive(pid: int) -> bool:
    """True while ``pid`` is a live launcher (reaps it when it is our own exited child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: another command started it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # guard against a recycled pid
        try:
            return b"Launcher.java" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def status(data: str | os.PathLike[str]) -> ServerStatus:
    """Running or stopped, with pid and port, for the launcher owning ``data``."""
    data_path = Path(data).expanduser().resolve()
    info = _read_pidfile(data_path)
    if info is None:
        return ServerStatus(False, str(data_path))
    pid = int(info["pid"])  # type: ignore[arg-type]
    if not _alive(pid):
        _pidfile(data_path).unlink(missing_ok=True)
        return ServerStatus(False, str(data_path))
    return ServerStatus(True, str(data_path), pid, int(info["port"]), bool(info.get("auth")))  # type: ignore[arg-type]


# -- start / stop ---------------------------------------------------------------------------------


def log_tail(data: str | os.PathLike[str], lines: int = 30) -> str:
    """The last ``lines`` lines of the launcher's log (for error messages)."""
    try:
        text = (Path(data) / LOGFILE).read_text(errors="replace")
    except FileNotFoundError:
        return "(no log yet)"
    return "\n".join(text.splitlines()[-lines:])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _launcher_ready(data: Path, offset: int) -> bool:
    """True once the launcher printed its ready line after ``offset`` in the log."""
    try:
        with open(data / LOGFILE, "rb") as log:
            log.seek(offset)
            return READY_MARK in log.read()
    except FileNotFoundError:
        return False


def _bolt_ready(uri: str, password: str | None) -> bool:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, DriverError, Neo4jError

    auth = ("neo4j", password) if password else None
    try:
        with GraphDatabase.driver(uri, auth=auth, connection_timeout=2.0) as driver:
            driver.verify_connectivity()
        return True
    except AuthError as exc:
        raise StoreError(f"Neo4j at {uri} refused the credentials: {exc.message}") from None
    except (DriverError, Neo4jError, OSError):
        return False


def start(
    data: str | os.PathLike[str],
    port: int = DEFAULT_PORT,
    *,
    password: str | None = None,
    heap: str = DEFAULT_HEAP,
    pagecache_mb: int = DEFAULT_PAGECACHE_MB,
    timeout: float = START_TIMEOUT_S,
) -> ServerStatus:
    """Start the launcher detached on ``port`` with data in ``data``; wait until Bolt answers.

    Idempotent: when a launcher already owns ``data``, its status is returned unchanged.
    """
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be 1..65535, got {port}")
    if pagecache_mb < 16:
        raise ConfigError(f"--pagecache-mb must be at least 16, got {pagecache_mb}")
    if password is not None and len(password) < 8:
        raise ConfigError("the Neo4j password must be at least 8 characters")
    data_path = Path(data).expanduser().resolve()
    current = status(data_path)
    if current.running:
        return current
    java, release = find_java()
    deploy = deploy_dir()
    classpath = resolve_classpath(deploy)
    if _port_in_use(port):
        raise StoreError(f"port {port} on 127.0.0.1 is already in use by another process; pick --port")
    data_path.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    if password:
        env[PASSWORD_ENV] = password
    cmd = [java, f"-Xmx{heap}", "-Dfile.encoding=UTF-8", *jvm_options(release), "-cp", classpath,
           str(deploy / "Launcher.java"), "--port", str(port), "--data", str(data_path),
           "--pagecache-mb", str(int(pagecache_mb))]
    t0 = time.monotonic()
    log_offset = (data_path / LOGFILE).stat().st_size if (data_path / LOGFILE).exists() else 0
    with open(data_path / LOGFILE, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=data_path, env=env, start_new_session=True)
    info = {"pid": proc.pid, "port": port, "auth": bool(password), "started_at": time.time()}
    _pidfile(data_path).write_text(json.dumps(info))
    uri = f"bolt://127.0.0.1:{port}"
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _pidfile(data_path).unlink(missing_ok=True)
            raise StoreError(f"Neo4j exited with status {proc.returncode} while starting; "
                             f"log {data_path / LOGFILE}:\n{log_tail(data_path)}")
        # Bolt answers a moment before the launcher has set the password: wait for its ready line.
        if _launcher_ready(data_path, log_offset) and _bolt_ready(uri, password):
            return ServerStatus(True, str(data_path), proc.pid, port, bool(password),
                                round(time.monotonic() - t0, 2))
        time.sleep(0.5)
    stop(data_path)
    raise StoreError(f"Neo4j did not answer on {uri} within {timeout:.0f} s; "
                     f"log {data_path / LOGFILE}:\n{log_tail(data_path)}")


def stop(data: str | os.PathLike[str], *, timeout: float = STOP_TIMEOUT_S) -> ServerStatus:
    """SIGTERM the launcher owning ``data`` and wait for a clean exit (SIGKILL after ``timeout``)."""
    current = status(data)
    if not current.running or current.pid is None:
        return current
    pid = current.pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.2)
    else:
        warnings.warn(f"Neo4j (pid {pid}) did not stop within {timeout:.0f} s after SIGTERM; "
                      "sending SIGKILL (the store will recover on next start)", stacklevel=2)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while _alive(pid):
            time.sleep(0.1)
    _pidfile(Path(current.data)).unlink(missing_ok=True)
    return ServerStatus(False, current.data, pid, current.port, current.auth)
