"""Cold start of the ``sensegraph`` command: seconds from process start to exit, per command.

    python bench/bench_cli.py                      # builds a small store in a temp folder (~1 min)
    python bench/bench_cli.py --store DIR --runs 5 # an existing embedded store

Each run is a fresh process (``python -m sensegraph ...``, stdout and stderr discarded), so every
import and model load counts, as for a user typing the command. Per command: median, min and max
wall seconds over ``--runs`` runs, peak RSS of the child, and whether torch was imported (each run
has ``-X importtime`` on, which adds a few milliseconds). ``search`` and ``link`` use a different query per run and an
empty embedding cache per run, so the text model loads every time (the worst case, a query never
seen before, and no linker cache either); ``… (seen query)`` repeats one query with its embeddings and the
built linker cached (the store's cache folder, as in normal use). The built store: WordNet 3.0 nouns + 12 packaged Open Clip Art
drawings of the core eval set, ingested with their captions. The machine is shared: quote medians.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    "a mouse eating cheese", "a bat flying at night", "a computer mouse on the desk", "a seal on the beach",
    "a hamster in its cage", "a baseball bat and a glove", "the mouse ran under the table",
    "a cricket bat leaning on the wall", "a grey seal pup", "a small rodent",
]


def build_store(path: Path, media: int = 12) -> None:
    """WordNet nouns plus ``media`` drawings of the core eval set, through the CLI itself."""
    from sensegraph.evaluation.dataset import load_evalset, resolve_media

    subprocess.run([sys.executable, "-m", "sensegraph", "import-kg", "wordnet", "--store", str(path), "--json"],
                   check=True, stdout=subprocess.DEVNULL)
    evalset = load_evalset(ROOT / "evalsets" / "core")
    manifest = path.parent / "bench-cli-manifest.jsonl"
    manifest.write_text("".join(json.dumps({"id": m.id, "media": str(resolve_media(m.media)), "text": m.caption}) + "\n"
                                for m in evalset.media[:media]))
    subprocess.run([sys.executable, "-m", "sensegraph", "ingest", str(manifest), "--store", str(path), "--json"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def commands(store: str) -> list[tuple[str, list[str], bool]]:
    """(label, argv after ``sensegraph``, whether each run gets a new query and an empty embedding cache)."""
    s = ["--store", store]
    return [
        ("--help", ["--help"], False),
        ("stats", ["stats", *s], False),
        ("sense n02330245", ["sense", "n02330245", *s], False),
        ("config", ["config", *s], False),
        ("link QUERY", ["link", "{q}", *s], True),
        ("link (seen query)", ["link", QUERIES[0], *s], False),
        ("search QUERY", ["search", "{q}", *s], True),
        ("search (seen query)", ["search", QUERIES[0], *s], False),
    ]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int, int, bool]:
    """(wall seconds, peak RSS in MB, exit code, torch imported) of one fresh process."""
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "sensegraph", *argv],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        err.seek(0)
        torch = any(line.split("|")[-1].strip() == "torch" for line in err)
    return secs, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status), torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="an embedded store folder (default: build a small one in a temp folder)")
    ap.add_argument("--runs", type=int, default=3, help="runs per command (median reported)")
    ap.add_argument("--only", action="append", help="only commands whose label starts with this (repeatable)")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-cli-")
    if args.store:
        store = args.store
    else:
        store = str(Path(tmp.name) / "store")
        t = time.perf_counter()
        build_store(Path(store))
        print(f"built {store} in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    base_env = {k: v for k, v in os.environ.items() if k != "SENSEGRAPH_CACHE_DIR"}
    rows = []
    for label, argv, fresh in commands(store):
        if args.only and not any(label.startswith(o) for o in args.only):
            continue
        times, rss, torch = [], [], False
        if not fresh:
            run_once(argv, base_env)  # warm the OS file cache and, for a seen query, the embedding cache
        for i in range(args.runs):
            env = dict(base_env)
            run_argv = [a.replace("{q}", QUERIES[(i + 1) % len(QUERIES)]) for a in argv]
            if fresh:
                env["SENSEGRAPH_CACHE_DIR"] = tempfile.mkdtemp(dir=tmp.name, prefix="cache-")
            secs, mb, code, used_torch = run_once(run_argv, env)
            torch = torch or used_torch
            if code != 0:
                raise SystemExit(f"sensegraph {' '.join(run_argv)} exited {code}")
            times.append(secs)
            rss.append(mb)
        rows.append((label, statistics.median(times), min(times), max(times), max(rss), torch))

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sensegraph cold start, {args.runs} runs each (load average {os.getloadavg()[0]:.1f})")
    for col in ("command", "median s", "min s", "max s", "peak RSS MB", "imports torch"):
        table.add_column(col, justify="left" if col == "command" else "right")
    for label, med, lo, hi, mb, torch in rows:
        table.add_row(label, f"{med:.2f}", f"{lo:.2f}", f"{hi:.2f}", str(mb), "yes" if torch else "no")
    Console().print(table)
    tmp.cleanup()


if __name__ == "__main__":
    main()
