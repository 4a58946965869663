"""Validation of the JSON Lines KG format: every bad line names FILE:LINE and the field."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensegraph.errors import ValidationError
from sensegraph.graph.importers.jsonl import parse_kg

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sports.jsonl"

GOOD = [
    {"kind": "entity", "id": "rockets", "name": "Rockets", "aliases": ["rocket"]},
    {"kind": "alias", "text": "火箭", "entity": "rockets", "lang": "zh"},
    {"kind": "sense", "id": "s:vehicle", "label": "rocket", "gloss": "a vehicle", "entity": "rockets"},
    {"kind": "sense", "id": "s:team", "label": "Rockets", "entities": ["rockets"]},
    {"kind": "relation", "source": "s:team", "target": "s:vehicle", "type": "named_after", "weight": 0.2},
]


def write(tmp_path: Path, rows: list, name: str = "kg.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                 encoding="utf-8")
    return p


def test_example_file_parses():
    kg = parse_kg(EXAMPLE)
    assert {e.id for e in kg.entities} >= {"rockets", "sharks", "gold"}
    zh = {(a.text, a.entity_id) for a in kg.aliases if a.lang == "zh"}
    assert {("火箭", "rockets"), ("大鲨鱼", "sharks"), ("黄金", "gold")} <= zh
    ranks = {(h.entity_id, h.sense_id): h.rank for h in kg.has_sense}
    assert ranks[("sharks", "sg:shark_fish")] == 1 and ranks[("sharks", "sg:sharks_team")] == 2


def test_records(tmp_path):
    kg = parse_kg(write(tmp_path, GOOD))
    assert {(a.text, a.lang) for a in kg.aliases} == {("Rockets", "en"), ("rocket", "en"), ("火箭", "zh")}
    # ranks default to file order per entity
    assert [(h.sense_id, h.rank) for h in kg.has_sense] == [("s:vehicle", 1), ("s:team", 2)]
    assert kg.relations[0].weight == 0.2 and kg.relations[0].type == "named_after"
    assert kg.senses[0].gloss == "a vehicle" and kg.senses[1].gloss == ""


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"kind": "entity", "id": "", "name": "x"}, "id"),
        ({"kind": "entity", "id": "a\u0007b", "name": "x"}, "id"),
        ({"kind": "entity", "id": "x", "name": "line\nbreak"}, "name"),
        ({"kind": "entity", "id": "x", "name": "x", "aliases": [""]}, "aliases.0"),
        ({"kind": "entity", "id": "x", "name": "x", "lang": "english!"}, "lang"),
        ({"kind": "entity", "id": "x", "name": "x", "colour": "red"}, "colour"),
        ({"kind": "thing", "id": "x"}, "kind"),
        ({"id": "x"}, "kind"),
        ({"kind": "alias", "text": "t", "entity": "nobody"}, "entity"),
        ({"kind": "sense", "id": "s:x", "label": "x"}, "entity"),
        ({"kind": "sense", "id": "s:x", "label": "x", "entity": "rockets", "rank": 0}, "rank"),
        ({"kind": "sense", "id": "s:x", "label": "x", "entities": ["ghost"]}, "entities"),
        ({"kind": "relation", "source": "s:team", "target": "s:nowhere", "type": "hypernym"}, "target"),
        ({"kind": "relation", "source": "s:team", "target": "s:vehicle", "type": "bad type"}, "type"),
        ({"kind": "relation", "source": "s:team", "target": "s:vehicle", "type": "x", "weight": "1"}, "weight"),
        ({"kind": "entity", "id": "rockets", "name": "Other name"}, "id"),
        ("{not json", None),
        ("[1, 2]", None),
    ],
)
def test_bad_line_names_file_line_and_field(tmp_path, bad, field):
    rows = GOOD + [bad] + GOOD[-1:]
    path = write(tmp_path, rows, "my-kg.jsonl")
    with pytest.raises(ValidationError) as info:
        parse_kg(path)
    msg = str(info.value)
    assert msg.startswith("my-kg.jsonl:6:"), msg
    if field:
        assert f"field '{field}'" in msg, msg


def test_comments_and_blank_lines_keep_line_numbers(tmp_path):
    rows = ["# a comment", "", *GOOD[:1], '{"kind": "alias", "text": "", "entity": "rockets"}']
    with pytest.raises(ValidationError, match=r"kg.jsonl:4: field 'text'"):
        parse_kg(write(tmp_path, rows))


def test_missing_file_and_non_utf8(tmp_path):
    with pytest.raises(ValidationError, match="cannot read"):
        parse_kg(tmp_path / "absent.jsonl")
    p = tmp_path / "latin1.jsonl"
    p.write_bytes(b'{"kind":"entity","id":"caf\xe9","name":"x"}\n')
    with pytest.raises(ValidationError, match="UTF-8"):
        parse_kg(p)


def test_hostile_strings_are_kept_verbatim(tmp_path):
    gloss = "'}) DETACH DELETE n //"
    kg = parse_kg(write(tmp_path, [GOOD[0], {"kind": "sense", "id": "s:x", "label": "x", "gloss": gloss,
                                             "entity": "rockets"}]))
    assert kg.senses[0].gloss == gloss
