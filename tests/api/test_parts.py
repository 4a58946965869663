"""``SenseGraph`` owns its parts (issue 19): built from the configuration, replaced through
``replace_part``, rebuilt when their configuration section changes; ``rebuild_prototypes`` leaves the
configuration alone."""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph import SenseGraph
from sensegraph.errors import ConfigError
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Evidence, Media, Sense
from sensegraph.linking.base import Linker


class FakeEncoder:
    """Just the Encoder protocol: two dimensions, deterministic text vectors."""

    encoder_id, joint_dim, native_dim = "fake/1", 4, 4

    def embed_texts(self, texts):
        return np.ones((len(texts), 4), np.float32) / 2

    def embed_media(self, media):  # pragma: no cover - never called here
        raise AssertionError("not used")


class FixedLinker:
    """A linker that links nothing and counts what callers asked of it."""

    def __init__(self) -> None:
        self.forgotten = 0
        self.aliases: list = []

    def link(self, text):
        return []

    def link_many(self, texts):
        return [[] for _ in texts]

    def add_aliases(self, entries):
        self.aliases.extend(entries)
        return len(entries)

    def forget_senses(self):
        self.forgotten += 1


@pytest.fixture
def sg(tmp_path):
    with SenseGraph(str(tmp_path / "store"), encoder=FakeEncoder()) as graph:
        yield graph


def test_parts_are_built_once_from_the_configuration_and_only_on_use(sg):
    assert sg.built_part("linker") is None and sg.built_part("engine") is None
    engine = sg.engine
    assert sg.built_part("engine") is engine is sg.engine
    assert engine.linker is sg.linker and engine.encoder is sg.encoder
    assert isinstance(sg.linker, Linker)


def test_replacing_a_part_rebuilds_what_was_built_on_it(sg):
    old_engine, old_linker = sg.engine, sg.linker
    mine = FixedLinker()
    sg.replace_part("linker", mine)
    assert sg.linker is mine and sg.engine is not old_engine and sg.engine.linker is mine
    sg.replace_part("encoder", FakeEncoder())  # the text memo and engine follow; the given linker stays
    assert sg.linker is mine and sg.engine.encoder is sg.encoder
    sg.reset_part("linker")
    assert sg.linker is not mine and type(sg.linker) is type(old_linker)


def test_a_new_configuration_rebuilds_the_parts_whose_section_changed(sg):
    linker, engine = sg.linker, sg.engine
    sg.config = sg.config.merged({"search": {"alpha": 0.5}})
    assert sg.linker is linker  # the linker section is unchanged: its tables stay built
    assert sg.engine is not engine and sg.engine.config.search.alpha == 0.5
    sg.config = sg.config.merged({"linker": {"nil_threshold": 0.4}})
    assert sg.linker is not linker and sg.linker.config.nil_threshold == 0.4
    mine = FixedLinker()
    sg.replace_part("linker", mine)
    sg.config = sg.config.merged({"linker": {"nil_threshold": 0.1}})
    assert sg.linker is mine  # a given part is the caller's: kept


def test_alias_edits_and_ingest_reach_the_linker_through_its_protocol(sg):
    mine = FixedLinker()
    sg.replace_part("linker", mine)
    sg.refresh_linker(["entry"])
    assert mine.aliases == ["entry"]
    sg.refresh_linker()  # anything but new aliases: built again from the store on next use
    assert sg.built_part("linker") is None


def test_bad_parts_and_names_are_refused_with_what_fits(sg):
    with pytest.raises(ConfigError, match="parts are encoder, text_memo, linker, engine"):
        sg.replace_part("tagger", object())
    with pytest.raises(ConfigError, match="Linker protocol .*link_many"):
        sg.replace_part("linker", object())
    with pytest.raises(ConfigError, match="Encoder protocol"):
        sg.replace_part("encoder", object())
    with pytest.raises(ConfigError, match="SenseGraphConfig"):
        sg.config = {"search": {"alpha": 1}}  # type: ignore[assignment]


def test_rebuild_prototypes_with_a_strategy_leaves_the_configuration_alone(tmp_path):
    rng = np.random.default_rng(2)
    d = tmp_path / "store"
    with EmbeddedStore(d) as s:
        s.bind_encoder("fake/1", 4, 4)
        s.upsert_senses([Sense("s1", "thing")])
        vecs = rng.normal(size=(4, 4)).astype(np.float32)
        s.upsert_media([Media(f"m{i}", f"file:///{i}", "image", embedding=v, features=v) for i, v in enumerate(vecs)])
        s.upsert_evidence([Evidence(f"m{i}", "s1", 0.9) for i in range(4)])
    with SenseGraph(str(d), encoder=FakeEncoder()) as graph:
        assert graph.rebuild_prototypes("medoid") == 1
        assert graph.store.get_prototypes(["s1"])["s1"].strategy == "medoid"
        assert graph.config.prototypes.strategy == "mean"
        with pytest.raises(ConfigError, match="prototypes.strategy"):
            graph.rebuild_prototypes("median")
    from typer.testing import CliRunner

    from sensegraph.cli import app

    res = CliRunner().invoke(app, ["rebuild-prototypes", "--strategy", "medoid", "--store", str(d)])
    assert res.exit_code == 0, res.output
    with SenseGraph(str(d), encoder=FakeEncoder()) as graph:  # the command keeps it for later updates
        assert graph.config.prototypes.strategy == "medoid"


def test_cache_dir_is_public_and_where_the_parts_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("SENSEGRAPH_CACHE_DIR", raising=False)
    with SenseGraph(str(tmp_path / "store"), encoder=FakeEncoder()) as local:
        assert local.cache_dir == tmp_path / "store" / "cache"  # a folder store keeps its cache beside it
    with SenseGraph(str(tmp_path / "store"), encoder=FakeEncoder(), config={"encoder": {"cache_dir": str(tmp_path / "c")}}) as sg:
        assert sg.cache_dir == tmp_path / "c" and sg.linker.cache_dir == tmp_path / "c" / "linker"
