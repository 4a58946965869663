"""What every importer shares: batched writes through the GraphStore upserts, and the report."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ..base import GraphStore
from ..model import Alias, Entity, HasSense, Relation, Sense

T = TypeVar("T")

# ``progress(phase, done_in_this_batch, total_records)``; phases in write order.
Progress = Callable[[str, int, int], None]
PHASES: tuple[str, ...] = ("entities", "aliases", "senses", "has_sense", "relations")


@dataclass
class ImportReport:
    """How many records of each kind an import wrote, and how long it took."""

    source: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    seconds: float = 0.0
    parse_seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All records written."""
        return sum(self.counts.values())

    def rate(self, phase: str) -> float:
        """Records per second written in ``phase`` (0 when it took no measurable time)."""
        s = self.phase_seconds.get(phase, 0.0)
        return self.counts.get(phase, 0) / s if s > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        """Plain data for ``--json`` and logs."""
        return {
            "source": self.source,
            "counts": dict(self.counts),
            "seconds": round(self.seconds, 3),
            "parse_seconds": round(self.parse_seconds, 3),
            "phase_seconds": {k: round(v, 3) for k, v in self.phase_seconds.items()},
        }


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items."""
    for i in range(0, len(items), size):
        yield items[i: i + size]


def write_batches(
    store: GraphStore,
    *,
    entities: Sequence[Entity] = (),
    aliases: Sequence[Alias] = (),
    senses: Sequence[Sense] = (),
    has_sense: Sequence[HasSense] = (),
    relations: Sequence[Relation] = (),
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert records in dependency order (entities and senses before the edges between them)."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    report = ImportReport()
    plan: list[tuple[str, Sequence[object], Callable[[Sequence[object]], object]]] = [
        ("entities", entities, store.upsert_entities),  # type: ignore[list-item]
        ("aliases", aliases, store.upsert_aliases),  # type: ignore[list-item]
        ("senses", senses, store.upsert_senses),  # type: ignore[list-item]
        ("has_sense", has_sense, store.upsert_has_sense),  # type: ignore[list-item]
        ("relations", relations, store.upsert_relations),  # type: ignore[list-item]
    ]
    for phase, records, upsert in plan:
        t0 = time.perf_counter()
        for batch in chunks(records, batch_size):
            upsert(batch)
            if progress is not None:
                progress(phase, len(batch), len(records))
        report.counts[phase] = len(records)
        report.phase_seconds[phase] = time.perf_counter() - t0
    report.seconds = sum(report.phase_seconds.values())
    return report
