"""Load rates of the full WordNet 3.0 noun graph into each store: senses/s, relations/s, aliases/s.

    python bench/bench_import.py                      # embedded store in a temporary directory
    SENSEGRAPH_BENCH_NEO4J=bolt://127.0.0.1:7687 python bench/bench_import.py   # and Neo4j (wiped!)

Each store is emptied first, loaded once (cold), then loaded again (the idempotent re-import, all
MERGEs hitting existing records). Rates are records written per second of that phase's upserts;
"parse" is reading and building the records from data.noun / index.noun (store-independent).
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from sensegraph.graph.importers.report import ImportReport
from sensegraph.graph.importers.wordnet import import_wordnet

NEO4J_ENV = "SENSEGRAPH_BENCH_NEO4J"


def run(store, wordnet_dir: str | None, batch_size: int) -> list[tuple[str, ImportReport]]:
    """Cold load then re-import into an emptied store."""
    store.wipe()
    cold = import_wordnet(store, wordnet_dir, batch_size=batch_size)
    warm = import_wordnet(store, wordnet_dir, batch_size=batch_size)
    return [("load", cold), ("re-import", warm)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wordnet-dir", default=None)
    ap.add_argument("--batch-size", type=int, default=5000)
    args = ap.parse_args()

    from sensegraph.graph.embedded import EmbeddedStore

    rows: list[tuple[str, str, ImportReport]] = []
    with tempfile.TemporaryDirectory() as tmp:
        with EmbeddedStore(Path(tmp) / "store") as store:
            rows += [("embedded", run_name, r) for run_name, r in run(store, args.wordnet_dir, args.batch_size)]
    uri = os.environ.get(NEO4J_ENV)
    if uri:
        from sensegraph.graph.factory import open_store

        store = open_store(uri)
        try:
            rows += [("neo4j", run_name, r) for run_name, r in run(store, args.wordnet_dir, args.batch_size)]
        finally:
            store.close()

    head = ("store", "run", "senses/s", "relations/s", "aliases/s", "entities/s", "has_sense/s", "parse s", "write s", "total s")
    print(f"WordNet 3.0 nouns, batch size {args.batch_size}"
          + ("" if uri else f"  (set {NEO4J_ENV}=bolt://... to include Neo4j)"))
    print(" | ".join(f"{h:>11}" for h in head))
    print("-+-".join("-" * 11 for _ in head))
    for name, run_name, r in rows:
        write_s = sum(r.phase_seconds.values())
        cells = (name, run_name, *(f"{r.rate(p):,.0f}" for p in ("senses", "relations", "aliases", "entities", "has_sense")),
                 f"{r.parse_seconds:.1f}", f"{write_s:.1f}", f"{r.seconds:.1f}")
        print(" | ".join(f"{c:>11}" for c in cells))
    if rows:
        c = rows[0][2].counts
        print(f"records: {c['senses']:,} senses, {c['relations']:,} relations, {c['aliases']:,} aliases, "
              f"{c['entities']:,} entities, {c['has_sense']:,} HAS_SENSE")


if __name__ == "__main__":
    main()
