"""Audio decoding: PyAV to 16 kHz mono, limits, and a clear error naming the medium for bad input."""
from __future__ import annotations

import io

import numpy as np
import pytest

from sensegraph.encoders.media import AUDIO_RATE, AudioLimits, decode_audio, media_kind
from sensegraph.errors import MediaError

from .sounds import clip, noise, tone, wav_bytes, wav_header_claiming


def test_resampled_to_16k_mono():
    stereo = np.stack([tone(440, 1.0, 44_100), tone(440, 1.0, 44_100)], axis=1)
    wave = decode_audio(wav_bytes(stereo, rate=44_100, channels=2))
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(wave.size - AUDIO_RATE) < 200  # one second at 16 kHz (resampler edges)
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spectrum) * AUDIO_RATE / wave.size - 440) < 5  # still a 440 Hz tone


def test_kinds_told_from_bytes(coffee):
    png = io.BytesIO()
    coffee.save(png, format="PNG")
    assert media_kind(png.getvalue()) == "image"
    assert media_kind(wav_bytes(tone())) == "audio"
    assert media_kind(clip([coffee], tone(seconds=1.5))) == "video"
    with pytest.raises(MediaError, match="not an image, audio or video"):
        media_kind(b"just some text, not a medium" * 10, origin="notes.wav")


@pytest.mark.parametrize("data, message", [
    (b"", "empty file"),
    (b"\x13\x37" * 3000, "not decodable audio|no audio stream"),
    (wav_bytes(tone(seconds=0.01)), "under AudioLimits.min_seconds"),
    (wav_header_claiming(3.0), "truncated audio"),
    (wav_header_claiming(3 * 3600.0), "exceeds AudioLimits.max_seconds"),
])
def test_bad_audio_names_the_problem(data, message):
    with pytest.raises(MediaError, match=message) as info:
        decode_audio(data, origin="clip-42.wav")
    assert "clip-42.wav" in str(info.value) or message == "empty file"


def test_wrong_type_is_refused(coffee):
    png = io.BytesIO()
    coffee.save(png, format="PNG")
    with pytest.raises(MediaError, match="no audio stream|not decodable audio"):
        decode_audio(png.getvalue(), origin="photo.wav")


def test_duration_cap_while_decoding():
    """A header can lie: the decoder stops once the cap is passed instead of decoding everything."""
    limits = AudioLimits(max_seconds=1.0)
    with pytest.raises(MediaError, match="max_seconds"):
        decode_audio(wav_bytes(noise(seconds=2.0)), limits)
    kept = decode_audio(wav_bytes(noise(seconds=2.0)), limits, keep_first=True)
    assert kept.size == AUDIO_RATE
