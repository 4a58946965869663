"""Editor fixtures: a small real graph (WordNet subgraph + scikit-image photos), a live server, Chromium.

The seed is built once per session through the real pipeline (WordNet import, the default encoder,
the linker, ``SenseGraph.ingest``); each test then gets a fresh store of each kind filled from that
seed (records, vectors, evidence; prototypes rebuilt), so tests may edit freely. Neo4j runs when
``SENSEGRAPH_TEST_NEO4J`` names a bolt URI (the store is wiped first).
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

TOKEN = "editor-test-token"
# true cat, domestic cat, beverage coffee, cup, rocket (engine), astronaut, motorcycle (+ hypernyms)
SYNSETS = ["02121620", "02121808", "07929519", "03147509", "04099429", "09818022", "03790512"]
CAT, DOMESTIC_CAT, COFFEE, CUP = "n02121620", "n02121808", "n07929519", "n03147509"
RECORDS = [  # (id, picture, caption); "coffee" is the wrong medium of the cat sense
    ("cat1", "cat", "a cat on a rug"),
    ("cat2", "cat-flipped", "my cat resting"),
    ("cat3", "cat-crop", "the cat looks up"),
    ("coffee", "coffee", "a cat cafe serves coffee in a cup"),
    ("rocket", "rocket", "a rocket on the launch pad"),
    ("astronaut", "astronaut", "an astronaut in a space suit"),
    ("moto", "motorcycle", "a motorcycle parked in the street"),
]


def _photos(folder: Path) -> dict[str, Path]:
    """scikit-image's packaged sample photos (and two variants of the cat) as PNG files."""
    import skimage
    from PIL import Image

    data = Path(skimage.__file__).parent / "data"
    cat = Image.open(data / "chelsea.png").convert("RGB")
    pics = {
        "cat": cat, "cat-flipped": cat.transpose(Image.FLIP_LEFT_RIGHT), "cat-crop": cat.crop((40, 0, 400, 300)),
        "coffee": Image.open(data / "coffee.png").convert("RGB"), "rocket": Image.open(data / "rocket.jpg").convert("RGB"),
        "astronaut": Image.open(data / "astronaut.png").convert("RGB"),
        "motorcycle": Image.open(data / "motorcycle_left.png").convert("RGB"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, im in pics.items():
        im.thumbnail((512, 512))
        out[name] = folder / f"{name}.png"
        im.save(out[name])
    return out


@dataclass
class Seed:
    graph: object  # WordNetGraph
    media: list
    evidence: list
    encoder: object


@pytest.fixture(scope="session")
def seed(tmp_path_factory) -> Seed:
    """The seed graph, built once through the real import, encoder, linker and ingest."""
    from sensegraph import SenseGraph
    from sensegraph.encoders.factory import create_encoder
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers.report import write_batches
    from sensegraph.graph.importers.wordnet import build_graph

    root = tmp_path_factory.mktemp("editor-seed")
    photos = _photos(root / "photos")
    graph = build_graph(synsets=SYNSETS)
    encoder = create_encoder("default")
    store = EmbeddedStore(root / "template")
    write_batches(store, entities=graph.entities, aliases=graph.aliases, senses=graph.senses,
                  has_sense=graph.has_sense, relations=graph.relations)
    sg = SenseGraph(store, encoder=encoder)
    report = sg.ingest([{"media": str(photos[pic]), "text": text, "id": mid} for mid, pic, text in RECORDS])
    assert report.ingested == len(RECORDS), report
    media = list(store.get_media([r[0] for r in RECORDS]).values())
    evidence = store.evidence()
    assert any(e.media_id == "coffee" and e.sense_id == CAT for e in evidence), "the linker should tie 'cat' to the cat sense"
    store.close()
    return Seed(graph, media, evidence, encoder)


def fill(store, seed: Seed) -> None:
    """Write the seed into an empty store and rebuild its prototypes."""
    from sensegraph.config import PrototypeConfig
    from sensegraph.graph.importers.report import write_batches
    from sensegraph.prototype_updates import PrototypeUpdater

    g = seed.graph
    enc = seed.encoder
    store.bind_encoder(enc.encoder_id, enc.joint_dim, enc.native_dim)
    write_batches(store, entities=g.entities, aliases=g.aliases, senses=g.senses, has_sense=g.has_sense, relations=g.relations)
    store.upsert_media(seed.media)
    store.upsert_evidence(seed.evidence)
    PrototypeUpdater(store, PrototypeConfig()).rebuild_all()


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def sg(request, seed, tmp_path, open_test_store):
    """A SenseGraph over a fresh store of each kind, filled from the seed, with the service token set."""
    from sensegraph import SenseGraph

    store = open_test_store(request.param, tmp_path / "store")
    fill(store, seed)
    graph = SenseGraph(store, encoder=seed.encoder,
                       config={"service": {"token": TOKEN, "rate_limit_per_minute": 100_000}})
    try:
        yield graph
    finally:
        store.close()


@dataclass
class Server:
    url: str
    sg: object


@contextmanager
def serving(app, sg) -> Iterator[Server]:
    """``app`` under uvicorn in a background thread on a free loopback port."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{port}", sg)
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


# The policy the editor is written for: no inline script or style, fetches to its own origin only.
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
              "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


@pytest.fixture
def server(sg):
    """The service app (REST + editor) on a free loopback port, every editor page under ``STRICT_CSP``
    whatever the service sets (so a page that needs inline script or style fails the browser tests)."""
    from sensegraph.service import create_app

    app = create_app(sg)

    @app.middleware("http")  # added last, so outermost: it has the final word on the header
    async def strict_csp(request, call_next):
        response = await call_next(request)
        if request.url.path.startswith("/editor"):
            response.headers["Content-Security-Policy"] = STRICT_CSP
        return response

    with serving(app, sg) as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    """A fresh browser context (no cookies) on the live server; dialogs are accepted."""
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1360, "height": 900})
    ctx.set_default_timeout(60_000)
    p = ctx.new_page()
    p.on("dialog", lambda d: d.accept())
    p.csp_errors = []  # every CSP violation the page reports (the tests expect none)
    p.on("console", lambda m: p.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield p
    ctx.close()


@pytest.fixture
def login(page):
    """A function that logs ``page`` in through the form with the service token."""

    def do(name: str = "ann") -> None:
        page.goto("/editor/login")
        page.fill("input[name=token]", TOKEN)
        page.fill("input[name=name]", name)
        page.click("form.narrow button")
        page.wait_for_selector("[data-testid=user]")

    return do
