"""Case agreement: a mention written in lower case does not name a sense WordNet only writes capitalised.

"A ram." is the sheep (WordNet writes it ``ram``), not random-access memory (``RAM``) or the zodiac
sign (``Ram``): the store's alias table is case-folded per lemma, so the casing comes from WordNet
3.0's own ``data.noun`` (Debian's ``wordnet-base``, the file the importer reads), scanned once per
process (~0.6 s). A candidate's alias similarity drops to ``candidates.CASE_FOLDED`` when the
mention is all lower case and every lemma of its sense spelled like the matched alias is
capitalised. Without the WordNet files, or for senses that are not WordNet synsets, nothing changes.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)
_WORDNET_ID = re.compile(r"n\d{8}")


def is_wordnet_id(sense_id: str) -> bool:
    """WordNet 3.0 noun ids look like ``n02412080``; other stores' senses never get the part."""
    return _WORDNET_ID.fullmatch(sense_id) is not None


def capitalised_keys(lemmas: Iterable[str]) -> frozenset[str]:
    """Lower-cased spellings all of whose forms among ``lemmas`` carry a capital ("RAM", "Ram" → "ram")."""
    forms: dict[str, list[str]] = {}
    for lemma in lemmas:
        spaced = lemma.replace("_", " ")
        forms.setdefault(spaced.lower(), []).append(spaced)
    return frozenset(key for key, fs in forms.items() if all(f != f.lower() for f in fs))


def case_mismatch(mention: str, alias: str, capitalised: frozenset[str]) -> bool:
    """Whether a lower-case ``mention`` matched a sense through an ``alias`` it only spells capitalised."""
    return mention == mention.lower() and mention != mention.upper() and alias.lower() in capitalised


def parse_capitalised(path: Path) -> dict[str, frozenset[str]]:
    """sense id → its capitalised-only keys, for the ``data.noun`` synsets that have any."""
    out: dict[str, frozenset[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(" ") or line == line.lower():  # licence header; no capital anywhere
                continue
            fields = line.split(" ", 4)
            count = int(fields[3], 16)
            words = line.split(" ", 4 + 2 * count)
            keys = capitalised_keys(words[4 + 2 * i] for i in range(count))
            if keys:
                out["n" + fields[0]] = keys
    return out


@lru_cache(maxsize=1)
def capitalised_senses() -> dict[str, frozenset[str]]:
    """WordNet noun id → capitalised-only keys; empty (logged) when the WordNet files are missing."""
    from sensegraph.graph.importers.wordnet import resolve_wordnet_dir

    try:
        return parse_capitalised(Path(resolve_wordnet_dir(None)) / "data.noun")
    except Exception as exc:  # noqa: BLE001 — no WordNet files: the part is simply 0
        log.warning("WordNet's data.noun is not readable (%s): the linker's case part is 0", exc)
        return {}
