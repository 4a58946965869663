"""Which senses name something people photograph: the ImageNet-12k classes timm ships (WordNet 3.0 ids).

Captions and queries describe what can be seen, so the linker gives such a sense a fixed bonus
(``linker.w_visual``, the ``visual`` part): "a grey cartoon cat walking" → the feline, not the
Caterpillar vehicle; "A carrot." → the root vegetable, not the plant's root. The list is timm's
``imagenet12k_synsets.txt`` (11,821 synsets: the subset of ImageNet-22k classes that
timm's 12k models are trained on); timm is already a dependency of the default encoder. Without timm the set is
empty and the part is 0 for every sense. Senses of a store without WordNet ids are never in it.
"""
from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)
SYNSET_FILE = "imagenet12k_synsets.txt"


@lru_cache(maxsize=1)
def picturable_senses() -> frozenset[str]:
    """WordNet noun ids (``n02121620``) of the ImageNet-12k classes; empty when timm is missing."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        log.warning("timm is not installed: no sense gets the linker's visual prior")
        return frozenset()
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "_info" / SYNSET_FILE
    try:
        return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    except OSError as exc:
        log.warning("cannot read %s (%s): no sense gets the linker's visual prior", path, exc)
        return frozenset()
