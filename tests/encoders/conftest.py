"""Shared fixtures: one default encoder per session and the sample photos that ship in packages."""
from __future__ import annotations

import pytest
from PIL import Image


def _sample_photos() -> dict[str, Image.Image]:
    import skimage.data as sd
    from sklearn.datasets import load_sample_image

    photos = {name: Image.fromarray(getattr(sd, name)()) for name in ("astronaut", "chelsea", "coffee", "rocket", "camera")}
    photos["motorcycle"] = Image.fromarray(sd.stereo_motorcycle()[0])
    for name in ("china.jpg", "flower.jpg"):
        photos[name.split(".")[0]] = Image.fromarray(load_sample_image(name))
    return photos


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    return _sample_photos()


@pytest.fixture(scope="session")
def conse():
    from sensegraph.encoders import create_encoder

    return create_encoder("default")


@pytest.fixture(scope="session")
def photo_embeddings(conse, photos):
    return conse.embed_media(list(photos.values()))
