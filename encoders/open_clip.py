"""``OpenClipEncoder``: any open_clip architecture with a pretrained tag or a local checkpoint, offline by default.

Weights are resolved before open_clip sees them: a file path is used as is; a pretrained tag is
looked up in open_clip's registry and then in the local caches it downloads into (``~/.cache/clip``
for URL weights, the Hugging Face cache for hub weights) without touching the network. Only with
``allow_download=True`` may open_clip fetch anything. Missing weights raise ``EncoderUnavailable``
naming the argument to pass. A randomly initialised model needs ``allow_random=True`` and is
logged as a warning (the tests use one).

Spaces: joint = the normalised CLIP embeddings (text and image). Native = for ViT image towers
the pooled image token *before* the projection into the joint space (width-d; the backbone's own
features, as for the default encoder); for other towers (ResNet attention pooling, timm trunks)
the projection is part of pooling, so native = the image embedding itself.

Args:
    model (str): open_clip architecture, e.g. ``"ViT-B-32"``, or ``"local-dir:/path"``.
    pretrained (str | None): a pretrained tag (``"laion2b_s34b_b79k"``) or a checkpoint path.
    allow_download (bool, default False): let open_clip fetch missing weights.
    allow_random (bool, default False): accept ``pretrained=None`` (random weights).
    seed (int, default 0): seed for random initialisation, so random models are reproducible.
    cache_dir (str | None): open_clip's download cache directory.
    batch_size (int, default 16).
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensegraph.errors import ConfigError, EncoderUnavailable, MediaError

from .base import MediaEmbedding, MediaInput, l2_normalise
from .media import DEFAULT_LIMITS, MediaLimits, describe, load_image, sha256_file
from .text import check_texts

log = logging.getLogger(__name__)

VERSION = 1
_PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode")


def _import_open_clip() -> Any:
    """open_clip, imported only when this encoder is chosen."""
    try:
        import open_clip
    except ImportError as exc:
        raise EncoderUnavailable("the open_clip encoder needs: pip install open_clip_torch") from exc
    return open_clip


def resolve_weights(open_clip: Any, model: str, pretrained: str, cache_dir: str | None) -> tuple[str | None, dict]:
    """(local checkpoint path or None, the tag's config) for a tag; a path resolves to itself."""
    if os.path.isfile(os.path.expanduser(pretrained)):
        return os.path.expanduser(pretrained), {}
    cfg = open_clip.get_pretrained_cfg(model, pretrained)
    if not cfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(model)) or "none"
        raise EncoderUnavailable(
            f"open_clip {model}: pretrained={pretrained!r} is neither a file nor a known tag "
            f"(tags for {model}: {tags})"
        )
    if "file" in cfg:
        return cfg["file"], cfg
    url = cfg.get("url", "")
    if url:
        local = Path(cache_dir or os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
        if local.is_file():
            return str(local), cfg
    hub = cfg.get("hf_hub", "")
    if hub:
        found = _hf_cached(hub, cache_dir)
        if found:
            return found, cfg
    return None, cfg


def _hf_cached(hub: str, cache_dir: str | None) -> str | None:
    """A Hugging Face hub file from the local cache only (safetensors preferred), else None."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo_id, filename = os.path.split(hub)
    filename = filename or "open_clip_pytorch_model.bin"
    candidates = [filename]
    if filename.endswith((".bin", ".pth")):
        candidates.insert(0, filename[:-4] + ".safetensors")
    if filename == "open_clip_pytorch_model.bin":
        candidates.insert(0, "open_clip_model.safetensors")
    for name in candidates:
        path = try_to_load_from_cache(repo_id, name, cache_dir=cache_dir)
        if isinstance(path, str) and os.path.isfile(path):
            return path
    return None


class OpenClipEncoder:
    """CLIP text/image embeddings (joint) and the image tower's pre-projection features (native)."""

    def __init__(
        self,
        model: str,
        pretrained: str | None = None,
        allow_download: bool = False,
        allow_random: bool = False,
        seed: int = 0,
        cache_dir: str | None = None,
        batch_size: int = 16,
        limits: MediaLimits = DEFAULT_LIMITS,
        device: str = "cpu",
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        open_clip = _import_open_clip()
        self.model_name = model
        self.batch_size = batch_size
        self.limits = limits
        self.device = device
        self._lock = threading.Lock()
        self._model, self._preprocess, self._tokenizer, weights = self._create(
            open_clip, model, pretrained, allow_download, allow_random, seed, cache_dir
        )
        self._native_is_pre_projection = self._has_reachable_projection()
        self.joint_dim, self.native_dim = self._probe_dims()
        native = "preproj" if self._native_is_pre_projection else "embed"
        self.encoder_id = f"open_clip:{model}@{weights}+{native}@{VERSION}"

    # -- construction -----------------------------------------------------------------------------

    def _create(
        self,
        open_clip: Any,
        model: str,
        pretrained: str | None,
        allow_download: bool,
        allow_random: bool,
        seed: int,
        cache_dir: str | None,
    ) -> tuple[Any, Any, Any, str]:
        """Model, image preprocessing, tokenizer and a weights label for ``encoder_id``."""
        import torch

        if model.startswith("hf-hub:") and not allow_download:
            raise EncoderUnavailable(
                f"open_clip {model} loads from the Hugging Face hub; pass allow_download=True, or save it "
                "locally and use 'local-dir:/path'"
            )
        kwargs: dict[str, Any] = {"device": self.device, "cache_dir": cache_dir}
        if not allow_download:
            kwargs.update(pretrained_text=False, pretrained_image=False)  # no base-tower downloads
        schema_name = model.startswith(("hf-hub:", "local-dir:"))
        if schema_name:
            weights, source = model.split(":", 1)[1], None
        elif pretrained is None:
            if not allow_random:
                tags = ", ".join(open_clip.list_pretrained_tags_by_model(model)) or "none known"
                raise EncoderUnavailable(
                    f"open_clip {model} needs weights: pass pretrained=<tag> ({tags}) or "
                    "pretrained=/path/to/checkpoint; allow_random=True gives random weights (tests only)"
                )
            weights, source = f"random-seed{seed}", None
            log.warning("open_clip %s: RANDOMLY INITIALISED weights (allow_random=True); embeddings are meaningless", model)
        else:
            path, cfg = resolve_weights(open_clip, model, pretrained, cache_dir)
            if path is None and not allow_download:
                raise EncoderUnavailable(
                    f"open_clip {model} pretrained={pretrained!r}: weights are not in the local cache; "
                    "pass allow_download=True to fetch them once, or pretrained=/path/to/checkpoint"
                )
            source = path or pretrained
            weights = pretrained if cfg else f"file-{sha256_file(path)[:12]}"
            overrides = {k: cfg[k] for k in _PREPROCESS_KEYS if k in cfg}
            if overrides:
                kwargs["force_preprocess_cfg"] = overrides
            if cfg.get("quick_gelu"):
                kwargs["force_quick_gelu"] = True
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                created = open_clip.create_model_and_transforms(model, pretrained=source, **kwargs)
            tokenizer = open_clip.get_tokenizer(model, cache_dir=cache_dir)
        except EncoderUnavailable:
            raise
        except (RuntimeError, OSError, ValueError, KeyError) as exc:
            raise EncoderUnavailable(f"open_clip {model} (pretrained={pretrained!r}) could not be created: {exc}") from exc
        clip_model, _, preprocess = created
        clip_model.eval()
        return clip_model, preprocess, tokenizer, weights

    def _has_reachable_projection(self) -> bool:
        """True when the image tower is a ViT whose final projection we can step around."""
        visual = self._model.visual
        return type(visual).__name__ == "VisionTransformer" and getattr(visual, "proj", None) is not None

    def _probe_dims(self) -> tuple[int, int]:
        """(joint_dim, native_dim) from the architecture, without a forward pass."""
        visual = self._model.visual
        joint = int(getattr(visual, "output_dim", 0) or self._model.text_projection.shape[-1])
        native = int(visual.proj.shape[0]) if self._native_is_pre_projection else joint
        return joint, native

    # -- the Encoder protocol ---------------------------------------------------------------------

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, joint_dim) normalised CLIP text embeddings."""
        import torch

        texts = check_texts(texts)
        out = np.zeros((len(texts), self.joint_dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                tokens = self._tokenizer(texts[start : start + self.batch_size]).to(self.device)
                out[start : start + tokens.shape[0]] = self._model.encode_text(tokens).float().cpu().numpy()
        return l2_normalise(out)

    def embed_media(self, media: Sequence[MediaInput]) -> MediaEmbedding:
        """Joint CLIP image embeddings and native features; ``MediaError`` names a medium that fails."""
        import torch

        images = []
        for i, item in enumerate(media):
            try:
                images.append(load_image(item, self.limits))
            except MediaError as exc:
                raise MediaError(f"medium #{i} ({describe(item)[:200]}): {exc}") from exc
        joint = np.zeros((len(images), self.joint_dim), dtype=np.float32)
        native = np.zeros((len(images), self.native_dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                chunk = images[start : start + self.batch_size]
                batch = torch.stack([self._preprocess(im) for im in chunk]).to(self.device)
                j, n = self._encode_image(batch)
                joint[start : start + len(chunk)] = j
                native[start : start + len(chunk)] = n
        return MediaEmbedding(joint=l2_normalise(joint), native=l2_normalise(native), labels=[[] for _ in images])

    def _encode_image(self, batch: Any) -> tuple[np.ndarray, np.ndarray]:
        """(image embedding, native features) from one pass through the image tower."""
        visual = self._model.visual
        if not self._native_is_pre_projection:
            emb = self._model.encode_image(batch).float().cpu().numpy()
            return emb, emb
        with self._lock:  # the projection is stepped around for the duration of one call
            proj = visual.proj
            visual.proj = None
            try:
                pooled = visual(batch)
            finally:
                visual.proj = proj
        if isinstance(pooled, tuple):
            pooled = pooled[0]
        return (pooled @ proj).float().cpu().numpy(), pooled.float().cpu().numpy()

    def __repr__(self) -> str:
        return f"OpenClipEncoder({self.encoder_id!r})"
