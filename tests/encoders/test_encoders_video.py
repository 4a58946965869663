"""Video: a tiny clip written with PyAV in the test, sampled at 1 fps, embedded and pooled."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from sensegraph.encoders.video import embed_video, pool_labels, sample_frames
from sensegraph.errors import MediaError

av = pytest.importorskip("av")


def _clip(photos_in_order: list[Image.Image], seconds_each: float = 1.5, rate: int = 10) -> bytes:
    """An MPEG-4 clip showing each photo for ``seconds_each`` seconds."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 160, 128, "yuv420p"
        for photo in photos_in_order:
            still = photo.convert("RGB").resize((160, 128))
            for _ in range(int(seconds_each * rate)):
                for packet in stream.encode(av.VideoFrame.from_image(still)):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def clip(photos) -> bytes:
    return _clip([photos["coffee"], photos["chelsea"]])


def test_frames_sampled_at_fixed_rate(clip):
    frames = sample_frames(clip, fps=1.0)
    assert [round(t, 2) for t, _ in frames] == [0.0, 1.0, 2.0]
    assert all(im.mode == "RGB" and im.size == (160, 128) for _, im in frames)
    assert len(sample_frames(clip, fps=4.0, max_frames=5)) == 5


def test_video_embedding_pools_frames(conse, clip, tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(clip)
    video = embed_video(conse, path, fps=1.0)
    assert video.frames.joint.shape == (3, 384) and video.timestamps == pytest.approx([0, 1, 2])
    mean = video.frames.joint.mean(axis=0)
    np.testing.assert_allclose(video.joint, mean / np.linalg.norm(mean), atol=1e-6)
    assert video.joint.dtype == np.float32 and abs(np.linalg.norm(video.native) - 1) < 1e-5
    coffee, cat = conse.embed_texts(["a cup of coffee", "a tabby cat"])
    assert video.frames.joint[0] @ coffee > video.frames.joint[0] @ cat  # 0 s: the coffee shot
    assert video.frames.joint[2] @ cat > video.frames.joint[2] @ coffee  # 2 s: the cat
    assert {sid for sid, _ in video.labels} & {"n07920052", "n02123045", "n02123159", "n02124075"}
    assert embed_video(conse, clip).sha256 == video.sha256


def test_pool_labels_averages_over_frames():
    pooled = pool_labels([[("a", 0.8), ("b", 0.2)], [("b", 0.9), ("c", 0.1)]], k=2)
    assert [sid for sid, _ in pooled] == ["b", "a"]
    assert [p for _, p in pooled] == pytest.approx([0.55, 0.4])


def test_bad_video_is_named():
    with pytest.raises(MediaError, match="not a decodable video"):
        sample_frames(b"definitely not a video" * 50)
    with pytest.raises(MediaError, match="fps"):
        sample_frames(b"x", fps=0)
