"""The default (image-only) encoder handed a video or a sound names the encoder that reads it (issue 21)."""
from __future__ import annotations

import pytest

from sensegraph.errors import MediaError

av = pytest.importorskip("av", reason="making a video needs PyAV")


def test_video_and_sound_name_the_multimodal_encoder(tmp_path):
    import skimage.data as sd
    from PIL import Image

    from sensegraph.encoders.media import decode_image
    from tests.audio.sounds import clip, tone, wav_bytes

    video = clip([Image.fromarray(sd.coffee())], tone(440, 1.0), seconds_each=1.0)
    with pytest.raises(MediaError, match=r"clip\.mp4: this is a video, not an image.*multimodal encoder"):
        decode_image(video, origin="clip.mp4")
    with pytest.raises(MediaError, match=r"this is a sound, not an image.*--encoder multimodal"):
        decode_image(wav_bytes(tone(440, 0.5)), origin="ring.wav")
    with pytest.raises(MediaError, match=r"not an image \(no decoder recognises these 11 bytes\)"):
        decode_image(b"hello world", origin="notes.png")


def test_ingest_reports_the_encoder_to_use(tmp_path):
    import skimage.data as sd
    from PIL import Image

    from sensegraph import SenseGraph
    from tests.audio.sounds import clip, tone

    (tmp_path / "clip.mp4").write_bytes(clip([Image.fromarray(sd.coffee())], tone(440, 1.0), seconds_each=1.0))
    with SenseGraph(tmp_path / "store") as sg:
        report = sg.ingest([{"media": str(tmp_path / "clip.mp4"), "text": "a cup of coffee"}])
    assert report.ingested == 0 and len(report.skipped) == 1
    assert report.skipped[0].kind == "unreadable" and "use the multimodal encoder" in report.skipped[0].reason
