"""The offline default encoder on real weights and real photos shipped by scikit-image / scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sensegraph.encoders.conse import ConseEncoder, conse_embed, top_labels
from sensegraph.encoders.effnet import preprocess
from sensegraph.errors import ConfigError, MediaError


def unit_norm(x: np.ndarray) -> bool:
    return bool(np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5))



QUERIES = {
    "astronaut": "an astronaut",
    "chelsea": "a tabby cat",
    "coffee": "a cup of coffee",
    "rocket": "a rocket on the launch pad",
    "camera": "a man with a camera on a tripod",
    "motorcycle": "a motorcycle",
    "china": "a Chinese temple",
    "flower": "a flower",
}


def test_plain_queries_rank_their_photo_first(conse, photos, photo_embeddings):
    names = list(photos)
    queries = conse.embed_texts([QUERIES[n] for n in names])
    sims = queries @ photo_embeddings.joint.T
    ranked_first = [names[j] for j in sims.argmax(axis=1)]
    assert ranked_first == names


def test_shapes_dtypes_unit_norm(conse, photos, photo_embeddings):
    n = len(photos)
    assert photo_embeddings.joint.shape == (n, 384) and photo_embeddings.joint.dtype == np.float32
    assert photo_embeddings.native.shape == (n, 1280) and photo_embeddings.native.dtype == np.float32
    assert unit_norm(photo_embeddings.joint) and unit_norm(photo_embeddings.native)
    assert conse.encoder_id == "conse-effnetlite0-minilm-l6-v2@1+T10+bnc"


def test_deterministic_and_batch_independent(photos, photo_embeddings):
    enc = ConseEncoder(batch_size=3)
    again = enc.embed_media(list(photos.values()))
    np.testing.assert_allclose(again.joint, photo_embeddings.joint, atol=1e-5)
    np.testing.assert_allclose(again.native, photo_embeddings.native, atol=1e-5)


def test_labels_are_imagenet_synsets(photos, photo_embeddings):
    names = list(photos)
    chelsea = photo_embeddings.labels[names.index("chelsea")]
    assert len(chelsea) == 5 and all(sid.startswith("n0") for sid, _ in chelsea)
    cats = {"n02123045", "n02123159", "n02124075"}  # tabby, tiger cat, Egyptian cat
    assert chelsea[0][0] in cats and sum(p for sid, p in chelsea if sid in cats) > 0.6
    probs = [p for _, p in chelsea]
    assert probs == sorted(probs, reverse=True)
    coffee = photo_embeddings.labels[names.index("coffee")]
    assert coffee[0][0] == "n07920052"  # espresso


def test_native_two_crops_nearer_than_another_photo(conse, photos):
    cat, coffee = photos["chelsea"], photos["coffee"]
    w, h = cat.size
    crops = [cat.crop((0, 0, int(w * 0.75), int(h * 0.8))), cat.crop((int(w * 0.2), int(h * 0.15), w, h))]
    emb = conse.embed_media(crops + [coffee, photos["rocket"]]).native
    same = emb[0] @ emb[1]
    assert same > emb[0] @ emb[2] + 0.2 and same > emb[0] @ emb[3] + 0.2


def test_native_centring_spreads_unrelated_photos(photos, photo_embeddings):
    raw = ConseEncoder(centre_native=False).embed_media(list(photos.values())).native
    off = ~np.eye(len(photos), dtype=bool)
    centred_sims = (photo_embeddings.native @ photo_embeddings.native.T)[off]
    raw_sims = (raw @ raw.T)[off]
    assert abs(centred_sims.mean()) < raw_sims.mean()


def test_preprocess_matches_tf_lite_pipeline():
    img = Image.new("RGB", (320, 256), (127, 255, 0))
    arr = preprocess(img)
    assert arr.shape == (3, 224, 224) and arr.dtype == np.float32
    np.testing.assert_allclose(arr[:, 100, 100], [0.0, 1.0, -127 / 128], atol=1e-6)


def test_conse_embed_is_weighted_mean_of_top_classes():
    classes = np.eye(4, dtype=np.float32)
    probs = np.array([[0.5, 0.3, 0.15, 0.05]], dtype=np.float32)
    out = conse_embed(probs, classes, top=2)
    expected = np.array([0.5, 0.3, 0, 0]) / np.linalg.norm([0.5, 0.3])
    np.testing.assert_allclose(out[0], expected, atol=1e-6)
    assert top_labels(probs, ["a", "b", "c", "d"], 2) == [[("a", 0.5), ("b", pytest.approx(0.3))]]


def test_bad_settings_and_media_are_named(conse, tmp_path):
    with pytest.raises(ConfigError, match="top"):
        ConseEncoder(top=0)
    with pytest.raises(MediaError, match=r"medium #1 .*no such file"):
        conse.embed_media([Image.new("RGB", (32, 32)), tmp_path / "missing.jpg"])
    empty = conse.embed_media([])
    assert empty.joint.shape == (0, 384) and empty.native.shape == (0, 1280)


def test_shipped_class_embeddings_match_a_fresh_computation(conse):
    from sensegraph.encoders.imagenet import (
        _load_precomputed,
        class_embeddings,
        compute_class_embeddings,
        imagenet_classes,
    )

    shipped = _load_precomputed(conse.text)
    assert shipped is not None, "encoders/data/imagenet_minilm_l6_v2.npz missing or stale"
    rows = list(range(0, 1000, 37))
    np.testing.assert_allclose(compute_class_embeddings(conse.text, rows), shipped[rows], atol=1e-5)
    assert class_embeddings(conse.text) is class_embeddings(conse.text)  # embedded once per process
    assert imagenet_classes()[281] == ("n02123045", "tabby, tabby cat")


def test_batchnorm_folding_keeps_outputs(photos):
    import torch

    from sensegraph.encoders import effnet

    plain = effnet.load_model()
    mean = effnet.expected_feature_mean(plain)
    folded = effnet.fold_batchnorm(effnet.load_model())
    batch = torch.from_numpy(np.stack([preprocess(photos[k].convert("RGB")) for k in ("coffee", "rocket")]))
    with torch.inference_mode():
        (la, fa), (lb, fb) = effnet.forward(plain, batch), effnet.forward(folded, batch)
    np.testing.assert_allclose(la.numpy(), lb.numpy(), atol=1e-3)
    np.testing.assert_allclose(fa.numpy(), fb.numpy(), atol=1e-3)
    assert mean.shape == (1280,) and 0.05 < float(mean.mean()) < 0.5


def test_class_list_is_timms_own_and_reading_it_does_not_import_timm():
    import subprocess
    import sys

    code = ("import sys; from sensegraph.encoders.imagenet import imagenet_classes; c = imagenet_classes(); "
            "assert len(c) == 1000 and c[281] == ('n02123045', 'tabby, tabby cat'); "
            "print('timm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr

    from timm.data import ImageNetInfo

    from sensegraph.encoders.imagenet import imagenet_classes

    info = ImageNetInfo()
    assert imagenet_classes() == tuple((info.index_to_label_name(i), info.index_to_description(i))
                                       for i in range(info.num_classes()))
