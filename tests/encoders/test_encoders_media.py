"""Media loading: every source kind, awkward modes, and a named error for each kind of bad input."""
from __future__ import annotations

import hashlib
import http.server
import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from sensegraph.encoders.batch import embed_batch
from sensegraph.encoders.media import MediaLimits, decode_image, load_image, read_content
from sensegraph.errors import MediaError


def _jpeg(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90, **kw)
    return buf.getvalue()


def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


@pytest.fixture()
def halves() -> Image.Image:
    """40×20: left half red, right half blue."""
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))
    return img


# -- sources -------------------------------------------------------------------------------------


def test_path_bytes_and_pil_agree(tmp_path, halves):
    data = _png(halves)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    for source in (path, str(path), data, halves):
        img = load_image(source)
        assert img.mode == "RGB" and img.size == (40, 20)
        assert img.getpixel((5, 5)) == (255, 0, 0) and img.getpixel((35, 5)) == (0, 0, 255)


def test_read_content_hash_is_of_the_bytes(tmp_path, halves):
    data = _jpeg(halves)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    content = read_content(path)
    assert content.data == data and content.sha256 == hashlib.sha256(data).hexdigest()
    assert read_content(data).sha256 == content.sha256
    assert read_content(halves).sha256 == read_content(halves.copy()).sha256


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/slow":
            time.sleep(1.5)
        status, body, headers = self.routes.get(self.path, (404, b"nope", {}))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server(halves):
    _Handler.routes = {
        "/a.png": (200, _png(halves), {"Content-Type": "image/png"}),
        "/big": (200, b"\0" * 5000, {}),
        "/liar": (200, b"\0" * 5000, {"Content-Length": "10"}),
        "/slow": (200, _png(halves), {}),
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_url_loads_from_loopback(server):
    img = load_image(f"{server}/a.png")
    assert img.size == (40, 20) and img.getpixel((5, 5)) == (255, 0, 0)
    assert read_content(f"{server}/a.png").origin == f"{server}/a.png"


def test_url_errors(server):
    with pytest.raises(MediaError, match="HTTP 404"):
        load_image(f"{server}/missing")
    with pytest.raises(MediaError, match="Content-Length 5000 exceeds max_bytes=1000"):
        load_image(f"{server}/big", MediaLimits(max_bytes=1000))
    with pytest.raises(MediaError, match="timed out|cannot fetch"):
        load_image(f"{server}/slow", MediaLimits(url_timeout_s=0.3))


# -- modes and orientation -----------------------------------------------------------------------


def test_exif_orientation_applied(halves):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img = load_image(_jpeg(halves, exif=exif.tobytes()))
    assert img.size == (20, 40)
    top = np.asarray(img)[5, 10]
    assert top[0] > 200 and top[2] < 60  # red half now on top


def test_alpha_and_palette_over_white():
    rgba = Image.new("RGBA", (10, 10), (0, 255, 0, 0))
    rgba.putpixel((0, 0), (0, 255, 0, 255))
    out = load_image(_png(rgba))
    assert out.getpixel((5, 5)) == (255, 255, 255) and out.getpixel((0, 0)) == (0, 255, 0)
    la = Image.new("LA", (4, 4), (0, 0))
    assert load_image(_png(la)).getpixel((1, 1)) == (255, 255, 255)
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    pal.putpixel((1, 1), 1)
    out = load_image(_png(pal, transparency=0))
    assert out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((1, 1)) == (200, 10, 10)


def test_cmyk_and_sixteen_bit_grey():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    r, g, b = load_image(_jpeg(cmyk)).getpixel((4, 4))
    assert r > 200 and g < 60 and b < 60
    grey = Image.fromarray(np.tile(np.linspace(0, 65535, 16, dtype=np.uint16), (4, 1)))
    out = np.asarray(load_image(_png(grey)))
    assert out.shape == (4, 16, 3) and out[0, 0, 0] == 0 and out[0, -1, 0] == 255


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (8, 8), (255, 0, 0)), Image.new("RGB", (8, 8), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    r, g, b = load_image(buf.getvalue()).getpixel((4, 4))
    assert r > 200 and b < 60


def test_large_legal_image_is_downscaled_keeping_aspect():
    big = Image.new("RGB", (2000, 1500), (10, 120, 200))
    out = decode_image(_jpeg(big), MediaLimits(decode_pixels=300_000))
    assert out.width * out.height <= 300_000 and abs(out.width / out.height - 4 / 3) < 0.02
    out_png = decode_image(_png(big), MediaLimits(decode_pixels=300_000))
    assert out_png.width * out_png.height <= 300_000


# -- bad input -----------------------------------------------------------------------------------


def test_bad_inputs_have_named_errors(tmp_path, halves):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image")
    truncated = _jpeg(Image.effect_noise((256, 256), 60).convert("RGB"))
    bomb = _png(Image.new("L", (12000, 10000)))  # 120 Mpx of zeros compresses to a few KB
    cases = [
        (empty, "empty file"),
        (text, "not an image"),
        (truncated[: len(truncated) // 2], "truncated or corrupt"),
        (bomb, "decompression bomb"),
        (tmp_path / "missing.png", "no such file"),
        (tmp_path, "is a directory"),
        (12345, "cannot load a medium from int"),
    ]
    for source, message in cases:
        with pytest.raises(MediaError, match=message):
            load_image(source, MediaLimits(max_pixels=50_000_000))
    with pytest.raises(MediaError, match="max_bytes"):
        load_image(_png(halves), MediaLimits(max_bytes=10))


def test_batch_embeds_what_loads_and_reports_the_rest(conse, photos, tmp_path):
    good = [photos["coffee"], _jpeg(photos["chelsea"])]
    media = [good[0], b"", tmp_path / "nope.png", good[1], b"GIF89a broken"]
    result = embed_batch(conse, media)
    assert result.indices == [0, 3]
    assert [i for i, _ in result.failures] == [1, 2, 4]
    assert "empty" in result.failures[0][1] and "no such file" in result.failures[1][1]
    assert result.embedding.joint.shape == (2, 384)
    direct = conse.embed_media(good)
    np.testing.assert_allclose(result.embedding.joint, direct.joint, atol=1e-5)
