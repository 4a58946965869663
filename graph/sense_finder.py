"""The sense finder's ranking, written once for every store: exact name, then prefix, then substring.

A store only gathers candidates (``GraphStore.sense_candidates``: every sense whose id, label or an
alias contains the query, with the names that matched); ``rank_candidates`` is the pure ranking both
stores share, and ``find`` puts the two together for the editor and the REST ``/senses`` endpoint.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .model import Sense

if TYPE_CHECKING:
    from .base import GraphStore

EXACT, PREFIX, SUBSTRING = 0, 1, 2
SHORT = 3  # a needle shorter than this matches only names that start with it (an "e" matches ~63k names)
KIND_NAMES = {EXACT: "exact", PREFIX: "prefix", SUBSTRING: "substring"}


@dataclass(frozen=True)
class SenseCandidate:
    """A sense that matched, as a store returns it: the names that contained the query and its counts."""

    sense_id: str
    label: str
    aliases: tuple[str, ...] = ()  # only the aliases that contain the query
    redirect_to: str | None = None
    media_count: int = 0


@dataclass
class SenseFinding:
    """The finder's answer: how many senses matched, and the best ``limit`` of them with their match kind."""

    query: str
    total: int
    with_media: int
    senses: list[Sense] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)


def normalise(query: str | None) -> str:
    """The needle every store searches for: stripped and lower-cased; a query that is only whitespace
    stays as it is (an id such as "\x85" must still find its sense)."""
    text = query or ""
    return (text.strip() or text).lower()


def match_kind(needle: str, names: Iterable[str]) -> int | None:
    """EXACT when a name is the needle, PREFIX when a name or a word in it starts with it, SUBSTRING
    when a name merely contains it, ``None`` when none does (``needle`` is already normalised)."""
    best: int | None = None
    for name in names:
        low = name.lower()
        if low == needle:
            return EXACT
        at = low.find(needle)
        if at < 0:
            continue
        kind = SUBSTRING
        while at >= 0:
            if at == 0 or not low[at - 1].isalnum():
                kind = PREFIX
                break
            at = low.find(needle, at + 1)
        best = kind if best is None else min(best, kind)
    return best


def rank_candidates(needle: str, candidates: Iterable[SenseCandidate]) -> list[tuple[SenseCandidate, int]]:
    """Every candidate with its match kind, best first: kind, exact id, exact label, live before merged,
    more media, then id (deterministic, so both stores agree)."""
    scored = []
    for c in candidates:
        kind = match_kind(needle, (c.sense_id, c.label, *c.aliases))
        if kind is not None:
            scored.append((c, kind))
    scored.sort(key=lambda ck: (ck[1], ck[0].sense_id.lower() != needle, ck[0].label.lower() != needle,
                                ck[0].redirect_to is not None, -ck[0].media_count, ck[0].sense_id))
    return scored


def find(store: GraphStore, query: str, limit: int = 20, *, with_media: bool = False) -> SenseFinding:
    """Rank the store's candidates for ``query``; ``with_media`` keeps only senses with counting media.
    A query shorter than ``SHORT`` characters finds only names that start with it."""
    needle = normalise(query)
    if not needle:
        return SenseFinding(query or "", 0, 0)
    ranked = rank_candidates(needle, store.sense_candidates(needle, anywhere=len(needle) >= SHORT))
    if query and query != needle and not any(c.sense_id == query for c, _ in ranked):
        # an id that normalising changed ("\r1" → "1") is still found by itself, first
        own = store.get_senses([query]).get(query)
        if own is not None:
            ranked.insert(0, (SenseCandidate(own.sense_id, own.label, (), own.redirect_to, own.media_count), EXACT))
    media_total = sum(1 for c, _ in ranked if c.media_count > 0)
    kept = [(c, k) for c, k in ranked if c.media_count > 0] if with_media else ranked
    top = kept[: max(0, limit)]
    senses = store.get_senses([c.sense_id for c, _ in top])
    return SenseFinding(query, len(kept), media_total, [senses[c.sense_id] for c, _ in top if c.sense_id in senses],
                        {c.sense_id: k for c, k in top})


def group_rows(rows: Sequence[tuple[str, str, str | None, int, str | None]]) -> list[SenseCandidate]:
    """Fold (sense_id, label, redirect_to, media_count, matching alias or None) rows into candidates."""
    out: dict[str, SenseCandidate] = {}
    aliases: dict[str, dict[str, None]] = {}
    for sid, label, redirect, count, alias in rows:
        if sid not in out:
            out[sid] = SenseCandidate(sid, label or "", (), redirect, int(count or 0))
            aliases[sid] = {}
        if alias is not None:
            aliases[sid][alias] = None
    return [SenseCandidate(c.sense_id, c.label, tuple(aliases[c.sense_id]), c.redirect_to, c.media_count)
            for c in out.values()]
