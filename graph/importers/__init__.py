"""Knowledge-graph importers: the JSON Lines format (``jsonl``) and WordNet 3.0 nouns (``wordnet``).

Both validate or parse everything first, then write through the ``GraphStore`` upserts in
batches, and return an ``ImportReport``. Import the submodules directly for their parsers.
"""
from .jsonl import import_jsonl, parse_kg
from .report import ImportReport
from .wordnet import Synset, import_wordnet, parse_noun_synsets

__all__ = ["ImportReport", "Synset", "import_jsonl", "import_wordnet", "parse_kg", "parse_noun_synsets"]
