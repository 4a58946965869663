"""The sense finder on the full WordNet 3.0 noun graph: milliseconds per query, matches, per store.

    python bench/bench_finder.py                      # embedded store in a temporary directory
    SENSEGRAPH_BENCH_NEO4J=bolt://127.0.0.1:7687 python bench/bench_finder.py   # and Neo4j (wiped!)

Short queries are the worst case: every sense whose id, label or an alias contains the text is a
candidate the store returns and ``sense_finder`` ranks (the editor's finder asks for 50).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from sensegraph.graph import sense_finder
from sensegraph.graph.importers.wordnet import import_wordnet

NEO4J_ENV = "SENSEGRAPH_BENCH_NEO4J"
QUERIES = ("crane", "bat", "cat", "an", "e", "n02139199", "zzzz")


def measure(store, repeats: int = 3) -> list[tuple[str, int, str, float]]:
    """(query, matches, best hit, median ms) per query."""
    rows = []
    for q in QUERIES:
        times, found = [], None
        for _ in range(repeats):
            t = time.perf_counter()
            found = sense_finder.find(store, q, 50)
            times.append(1000 * (time.perf_counter() - t))
        best = found.senses[0].label if found and found.senses else "-"
        rows.append((q, found.total if found else 0, best, statistics.median(times)))
    return rows


def main() -> None:
    from sensegraph.graph.embedded import EmbeddedStore

    results: list[tuple[str, list[tuple[str, int, str, float]]]] = []
    with tempfile.TemporaryDirectory() as tmp, EmbeddedStore(Path(tmp) / "store") as store:
        import_wordnet(store, None)
        results.append(("embedded", measure(store)))
    uri = os.environ.get(NEO4J_ENV)
    if uri:
        from sensegraph.graph.factory import open_store

        store = open_store(uri)
        try:
            store.wipe()
            import_wordnet(store, None)
            results.append(("neo4j", measure(store)))
        finally:
            store.close()
    print("sense finder, WordNet 3.0 nouns, limit 50" + ("" if uri else f"  (set {NEO4J_ENV}=bolt://... to include Neo4j)"))
    print(f"{'store':>9} | {'query':>10} | {'matches':>8} | {'best':>16} | {'ms':>8}")
    print("-" * 64)
    for name, rows in results:
        for q, n, best, ms in rows:
            print(f"{name:>9} | {q:>10} | {n:>8,} | {best[:16]:>16} | {ms:>8.1f}")


if __name__ == "__main__":
    main()
