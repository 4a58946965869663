"""Test signals made in the test (numpy + the standard library's ``wave``), and clips written with PyAV."""
from __future__ import annotations

import io
import struct
import wave

import numpy as np


def wav_bytes(samples: np.ndarray, rate: int = 16_000, channels: int = 1) -> bytes:
    """16-bit PCM WAV of float samples in [-1, 1] (shape (n,) or (n, channels))."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def tone(freq: float = 440.0, seconds: float = 2.0, rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t)


def noise(seconds: float = 2.0, rate: int = 16_000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, int(seconds * rate))


def wav_header_claiming(seconds: float, rate: int = 16_000, data: bytes = b"\x00\x00" * 1600) -> bytes:
    """A WAV whose header declares ``seconds`` of 16-bit mono audio, followed by only ``data``."""
    n = int(seconds * rate) * 2
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE" + fmt + b"data" + struct.pack("<I", n) + data


def clip(frames, sound: np.ndarray | None = None, seconds_each: float = 1.5, rate: int = 10) -> bytes:
    """An MP4 showing each PIL image for ``seconds_each`` s, with ``sound`` (16 kHz mono) as AAC when given."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        vs = container.add_stream("mpeg4", rate=rate)
        vs.width, vs.height, vs.pix_fmt = 160, 128, "yuv420p"
        aus = container.add_stream("aac", rate=16_000) if sound is not None else None
        if aus is not None:
            aus.layout = "mono"
        for photo in frames:
            still = photo.convert("RGB").resize((160, 128))
            for _ in range(int(seconds_each * rate)):
                for packet in vs.encode(av.VideoFrame.from_image(still)):
                    container.mux(packet)
        for packet in vs.encode():
            container.mux(packet)
        if aus is not None:
            pcm = np.asarray(sound, dtype=np.float32)
            step = 1024
            for start in range(0, len(pcm), step):
                chunk = pcm[start:start + step]
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                frame.sample_rate = 16_000
                frame.pts = start
                for packet in aus.encode(frame):
                    container.mux(packet)
            for packet in aus.encode():
                container.mux(packet)
    return buf.getvalue()
