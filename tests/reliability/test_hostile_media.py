"""Hostile media and paths: bombs, truncated files and huge drawings are refused or downscaled within a
memory cap (peak RSS measured in a subprocess); manifest and upload paths cannot escape their folder."""
from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from sensegraph.errors import MediaError, ValidationError

OPENCLIPART = Path("/usr/share/openclipart/png")
HUGE_BOMB = OPENCLIPART / "signs_and_symbols/stop_sign_miguel_s_nchez_.png"  # 20990 x 29700
HUGE_LEGAL = OPENCLIPART / "people/man_head_mikhail_a.medve_.png"  # 4940 x 8240 = 40.7 Mpx
PEAK_MB = 800  # RSS decoding adds: measured ~470 MB for HUGE_LEGAL (RGBA decode + RGB copy); bombs < 10 MB

PROBE = textwrap.dedent("""
    import json, resource, sys
    from sensegraph.encoders.media import load_image
    from sensegraph.errors import MediaError
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # after the imports
    try:
        im = load_image(sys.argv[1])
        out = {"size": list(im.size)}
    except MediaError as exc:
        out = {"error": str(exc)}
    out["peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024  # what decoding added
    print(json.dumps(out))
""")


def _probe(path: Path) -> dict:
    """Decode ``path`` in a fresh process with a hard address-space cap; its result and the peak RSS
    decoding added to the process (imports excluded)."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    proc = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=120,
                          preexec_fn=cap)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a classic decompression bomb shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width * 3 + 1) * 4)  # a few rows only; the rest "compresses" to nothing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.skipif(not HUGE_BOMB.is_file(), reason="needs Debian's openclipart-png")
@pytest.mark.parametrize("path", [HUGE_BOMB, OPENCLIPART / "computer/microchip_v.2_havok_redh_01.png"],
                         ids=["stop-sign-623Mpx", "microchip-231Mpx"])
def test_huge_drawings_are_refused_as_bombs_without_decoding(path):
    out = _probe(path)
    assert "decompression bomb" in out.get("error", ""), out
    assert out["peak_mb"] < 50, out


@pytest.mark.slow
@pytest.mark.skipif(not HUGE_LEGAL.is_file(), reason="needs Debian's openclipart-png")
def test_a_large_legal_drawing_is_downscaled_within_the_memory_cap():
    out = _probe(HUGE_LEGAL)
    assert "size" in out, out
    w, h = out["size"]
    assert w * h <= 16_000_000 and abs(w / h - 4940 / 8240) < 0.01, out
    assert out["peak_mb"] < PEAK_MB, out


def test_a_forged_header_bomb_and_a_truncated_image_are_media_errors(tmp_path):
    from PIL import Image

    from sensegraph.encoders.media import decode_image

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(100_000, 100_000))
    out = _probe(bomb)
    assert "decompression bomb" in out["error"] or "exceeds max_pixels" in out["error"], out
    assert out["peak_mb"] < 50, out
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 10, 10)).save(buf, format="JPEG")
    data = buf.getvalue()
    for cut in (len(data) // 2, 40, 3):
        with pytest.raises(MediaError):
            decode_image(data[:cut], origin="cut.jpg")
    with pytest.raises(MediaError, match="not an image"):
        decode_image(b"<?php system($_GET['c']); ?>" * 10, origin="shell.png")


def test_manifest_entries_cannot_escape_the_manifest_folder(tmp_path):
    """../ paths and symlinks that resolve outside the manifest's folder are refused per record."""
    from sensegraph.ingest import IngestRecord, load_bytes, resolve_media_path

    root = tmp_path / "manifest"
    root.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for you")
    (root / "link.png").symlink_to(secret)
    (root / "ok.png").write_bytes(b"x")
    for ref in ("../secret.png", "sub/../../secret.png", "link.png", "./../manifest/../secret.png"):
        with pytest.raises(ValidationError, match="escapes the manifest folder"):
            resolve_media_path(ref, root)
        with pytest.raises(ValidationError):
            load_bytes(IngestRecord(media=ref), root, 1_000_000)
    assert resolve_media_path("ok.png", root) == (root / "ok.png").resolve()


def test_ingest_reports_escaping_records_as_skipped_and_writes_nothing_for_them(tmp_path, template, corpus, clean):
    from sensegraph import SenseGraph

    from .conftest import fresh_store_dir

    folder = tmp_path / "m"
    folder.mkdir()
    first = json.loads((corpus / "manifest.jsonl").read_text().splitlines()[0])
    (folder / "photo.png").write_bytes((corpus / first["media"]).read_bytes())
    (tmp_path / "outside.png").write_bytes((corpus / first["media"]).read_bytes())
    (folder / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"media": "../outside.png", "text": "escape"}, {"media": "photo.png", "text": first["text"]},
        {"media": "/proc/self/environ", "text": "not an image"},
    ]) + "\n")
    with SenseGraph(str(fresh_store_dir(template, tmp_path / "store"))) as sg:
        report = sg.ingest_manifest(folder / "manifest.jsonl")
        assert report.ingested == 1 and len(report.skipped) == 2
        assert "escapes the manifest folder" in report.skipped[0].reason
        assert sg.store.counts()["media"] == 1


def test_upload_filenames_never_choose_the_stored_path(tmp_path, template, clean):
    """POST /ingest keeps an upload under its content hash; the client's filename only lends a clean suffix."""
    from PIL import Image

    from sensegraph import SenseGraph
    from sensegraph.service import UploadRecord, _save_upload, upload_dir

    from .conftest import fresh_store_dir

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(buf, format="PNG")
    with SenseGraph(str(fresh_store_dir(template, tmp_path / "store"))) as sg:
        root = upload_dir(sg).resolve()
        for name in ("../../../../tmp/evil.png", "/etc/passwd", "..\\..\\win.ini", "x.p\x00ng", "a.pn/g", "😀.🐍"):
            target = _save_upload(sg, UploadRecord(data=base64.b64encode(buf.getvalue()).decode(), filename=name))
            assert target.resolve().parent == root, (name, target)
            assert target.name.split(".")[0] == __import__("hashlib").sha256(buf.getvalue()).hexdigest()
        assert not (tmp_path.parent / "evil.png").exists()
