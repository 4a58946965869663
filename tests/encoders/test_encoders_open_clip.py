"""OpenClipEncoder code path on a randomly initialised small model; weights never downloaded."""
from __future__ import annotations

import socket

import numpy as np
import pytest

from sensegraph.encoders import create_encoder
from sensegraph.errors import EncoderUnavailable

MODEL = "ViT-S-32-alt"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the open_clip encoder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="module")
def random_clip():
    return create_encoder(f"open_clip:{MODEL}", allow_random=True, seed=3)


def test_random_model_both_spaces(random_clip, photos):
    enc = random_clip
    assert enc.encoder_id == f"open_clip:{MODEL}@random-seed3+preproj@1"
    out = enc.embed_media([photos["coffee"], photos["chelsea"]])
    assert out.joint.shape == (2, enc.joint_dim) == (2, 256) and out.native.shape == (2, 384)
    assert out.joint.dtype == np.float32 and np.allclose(np.linalg.norm(out.joint, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(out.native, axis=1), 1, atol=1e-5)
    texts = enc.embed_texts(["a cup of coffee", "a tabby cat", "x"])
    assert texts.shape == (3, 256) and np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-5)


def test_joint_is_clip_image_embedding_and_native_is_pre_projection(random_clip, photos):
    import torch

    enc = random_clip
    batch = torch.stack([enc._preprocess(photos["rocket"].convert("RGB"))])
    with torch.inference_mode():
        reference = enc._model.encode_image(batch, normalize=True).numpy()
    out = enc.embed_media([photos["rocket"]])
    np.testing.assert_allclose(out.joint, reference, atol=1e-5)
    assert enc._model.visual.proj is not None  # restored after stepping around it
    proj = enc._model.visual.proj.detach().numpy()
    rebuilt = out.native @ proj
    rebuilt /= np.linalg.norm(rebuilt, axis=1, keepdims=True)
    np.testing.assert_allclose(rebuilt, out.joint, atol=1e-5)


def test_local_checkpoint_and_determinism(random_clip, tmp_path, photos):
    import torch

    path = tmp_path / "tiny.pt"
    torch.save(random_clip._model.state_dict(), path)
    loaded = create_encoder(f"open_clip:{MODEL}", pretrained=str(path))
    assert loaded.encoder_id.startswith(f"open_clip:{MODEL}@file-") and "random" not in loaded.encoder_id
    a = random_clip.embed_media([photos["camera"]])
    b = loaded.embed_media([photos["camera"]])
    np.testing.assert_allclose(a.joint, b.joint, atol=1e-5)
    np.testing.assert_allclose(random_clip.embed_texts(["a rocket"]), loaded.embed_texts(["a rocket"]), atol=1e-5)


def test_missing_weights_name_the_argument():
    with pytest.raises(EncoderUnavailable, match="allow_random=True"):
        create_encoder(f"open_clip:{MODEL}")
    with pytest.raises(EncoderUnavailable, match="allow_download=True"):
        create_encoder("open_clip:ViT-B-32", pretrained="laion2b_s34b_b79k", cache_dir="/nonexistent-cache")
    with pytest.raises(EncoderUnavailable, match="neither a file nor a known tag.*laion2b_s34b_b79k"):
        create_encoder("open_clip:ViT-B-32", pretrained="no-such-tag")
    with pytest.raises(EncoderUnavailable, match="allow_download=True"):
        create_encoder("open_clip:hf-hub:timm/ViT-B-16-SigLIP")
