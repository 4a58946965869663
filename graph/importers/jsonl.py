"""The sensegraph JSON Lines knowledge-graph format: validate a whole file, then write it in batches.

One JSON object per line with a ``kind`` of ``entity``, ``alias``, ``sense`` or ``relation``
(documented with examples in ``docs/kg-format.md``). Every line is checked by a pydantic model and
the cross references (an alias's entity, a sense's entities, a relation's endpoints) must resolve
in the file or in the store, all before anything is written: a bad line leaves the store untouched.
Writes are the stores' idempotent upserts, so importing the same file twice changes nothing.
"""
from __future__ import annotations

import math
import os
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from sensegraph.errors import ValidationError, field_errors
from sensegraph.jsonl import parse_object, read_jsonl

from ..base import GraphStore
from ..model import Alias, Entity, HasSense, Relation, Sense
from .report import ImportReport, Progress, write_batches

KINDS: tuple[str, ...] = ("entity", "alias", "sense", "relation")
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_REL_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")


def _no_control(value: str) -> str:
    """Reject control characters (newlines, NUL, escapes) that would corrupt ids and labels."""
    for ch in value:
        if unicodedata.category(ch) == "Cc":
            raise ValueError(f"contains control character U+{ord(ch):04X}")
    return value


def _identifier(value: str) -> str:
    """Ids: non-empty, no control characters, no surrounding whitespace."""
    if not value or not value.strip():
        raise ValueError("must not be empty")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return _no_control(value)


def _lang(value: str) -> str:
    if not _LANG.match(value):
        raise ValueError("must be a language tag like 'en', 'zh' or 'pt-BR'")
    return value


def _rel_type(value: str) -> str:
    if not _REL_TYPE.match(value):
        raise ValueError("must be a word of letters, digits, '_' or '-' (e.g. 'hypernym')")
    return value


Id = Annotated[str, Field(max_length=512), AfterValidator(_identifier)]
Text = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_identifier)]
Gloss = Annotated[str, Field(max_length=8192), AfterValidator(_no_control)]
Lang = Annotated[str, AfterValidator(_lang)]


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EntityLine(_Line):
    """``{"kind":"entity","id":..,"name":..,"aliases":[..],"lang":"en"}``; name is an alias too."""

    kind: Literal["entity"]
    id: Id
    name: Text
    aliases: list[Text] = Field(default_factory=list)
    lang: Lang = "en"


class AliasLine(_Line):
    """``{"kind":"alias","text":..,"entity":..,"lang":..}``."""

    kind: Literal["alias"]
    text: Text
    entity: Id
    lang: Lang = "en"


class SenseLine(_Line):
    """``{"kind":"sense","id":..,"label":..,"gloss":..,"entity":.. | "entities":[..],"rank":1}``."""

    kind: Literal["sense"]
    id: Id
    label: Text
    gloss: Gloss = ""
    entity: Id | None = None
    entities: list[Id] = Field(default_factory=list)
    rank: int | None = Field(None, ge=1, le=10_000)

    def entity_ids(self) -> list[str]:
        """``entity`` and ``entities`` together, without repeats, in order."""
        ids = ([self.entity] if self.entity else []) + list(self.entities)
        return list(dict.fromkeys(ids))


class RelationLine(_Line):
    """``{"kind":"relation","source":..,"target":..,"type":"hypernym","weight":1.0}``."""

    kind: Literal["relation"]
    source: Id
    target: Id
    type: Annotated[str, AfterValidator(_rel_type)]
    weight: float = Field(1.0, ge=0.0, le=1e6)


AnyLine = Annotated[
    Union[EntityLine, AliasLine, SenseLine, RelationLine], Field(discriminator="kind")
]
_ADAPTER: TypeAdapter[EntityLine | AliasLine | SenseLine | RelationLine] = TypeAdapter(AnyLine)


@dataclass
class ParsedKG:
    """A validated file, as the store records it will write."""

    entities: list[Entity]
    aliases: list[Alias]
    senses: list[Sense]
    has_sense: list[HasSense]
    relations: list[Relation]


def parse_line(text: str, where: str) -> EntityLine | AliasLine | SenseLine | RelationLine:
    """Validate one JSON line; errors name ``where`` (``FILE:LINE``) and the offending field."""
    return validate_record(parse_object(text, where), where)


def validate_record(data: dict, where: str) -> EntityLine | AliasLine | SenseLine | RelationLine:
    """Validate one line's object as an entity, alias, sense or relation; errors name ``where`` and the field."""
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValidationError(
            f"{where}: field 'kind': unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
    if isinstance(data.get("weight"), float) and not math.isfinite(data["weight"]):
        raise ValidationError(f"{where}: field 'weight': must be a finite number")
    try:
        return _ADAPTER.validate_python(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]  # its location starts with the kind (the union's tag)
        [(loc, msg)] = field_errors([{**err, "loc": err["loc"][1:]}], default="kind")
        raise ValidationError(f"{where}: field {loc!r}: {msg}") from None


def parse_kg(path: str | os.PathLike[str], store: GraphStore | None = None) -> ParsedKG:
    """Validate every line and every cross reference of ``path``; nothing is written.

    References not defined in the file are looked up in ``store`` (relation endpoints through
    ``get_senses``; entities through ``get_entities`` when the store has it, else its alias table).
    """
    path = Path(path)
    name = path.name
    entities: dict[str, tuple[int, EntityLine]] = {}
    senses: dict[str, tuple[int, SenseLine]] = {}
    aliases: list[tuple[int, AliasLine]] = []
    relations: list[tuple[int, RelationLine]] = []
    for lineno, data in read_jsonl(path, what="knowledge-graph file", comments=True, label=name):
        rec = validate_record(data, f"{name}:{lineno}")
        if isinstance(rec, EntityLine | SenseLine):
            table: dict = entities if isinstance(rec, EntityLine) else senses
            if rec.id in table and table[rec.id][1] != rec:
                raise ValidationError(
                    f"{name}:{lineno}: field 'id': {rec.kind} {rec.id!r} already defined "
                    f"differently on line {table[rec.id][0]}"
                )
            table.setdefault(rec.id, (lineno, rec))
            if isinstance(rec, SenseLine) and not rec.entity_ids():
                raise ValidationError(
                    f"{name}:{lineno}: field 'entity': sense {rec.id!r} needs 'entity' or 'entities'"
                )
        elif isinstance(rec, AliasLine):
            aliases.append((lineno, rec))
        else:
            relations.append((lineno, rec))

    _check_entities(name, entities, aliases, senses, store)
    _check_relation_endpoints(name, senses, relations, store)
    return _to_records(entities, aliases, senses, relations)


def import_jsonl(
    store: GraphStore,
    path: str | os.PathLike[str],
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the whole file, then upsert it in batches; re-importing it changes nothing."""
    t0 = time.perf_counter()
    kg = parse_kg(path, store)
    parse_s = time.perf_counter() - t0
    report = write_batches(
        store,
        entities=kg.entities,
        aliases=kg.aliases,
        senses=kg.senses,
        has_sense=kg.has_sense,
        relations=kg.relations,
        batch_size=batch_size,
        progress=progress,
    )
    report.source = str(path)
    report.parse_seconds = parse_s
    report.seconds = time.perf_counter() - t0
    return report


def _check_entities(
    name: str,
    entities: dict[str, tuple[int, EntityLine]],
    aliases: list[tuple[int, AliasLine]],
    senses: dict[str, tuple[int, SenseLine]],
    store: GraphStore | None,
) -> None:
    """Every entity an alias or sense names is defined in the file or exists in the store."""
    refs: list[tuple[int, str, str]] = [(ln, "entity", a.entity) for ln, a in aliases]
    for ln, s in senses.values():
        refs.extend((ln, "entity" if s.entity else "entities", e) for e in s.entity_ids())
    outside = {e for _, _, e in refs if e not in entities}
    known = _store_entities(store, outside) if outside else set()
    for ln, fld, eid in sorted(refs):
        if eid not in entities and eid not in known:
            raise ValidationError(
                f"{name}:{ln}: field {fld!r}: unknown entity {eid!r} (not defined in the file "
                f"nor in the store)"
            )


def _check_relation_endpoints(
    name: str,
    senses: dict[str, tuple[int, SenseLine]],
    relations: list[tuple[int, RelationLine]],
    store: GraphStore | None,
) -> None:
    """Every relation endpoint is a sense of the file or of the store."""
    outside = sorted({i for _, r in relations for i in (r.source, r.target) if i not in senses})
    known = set(store.get_senses(outside)) if (store is not None and outside) else set()
    for ln, r in relations:
        for fld, sid in (("source", r.source), ("target", r.target)):
            if sid not in senses and sid not in known:
                raise ValidationError(
                    f"{name}:{ln}: field {fld!r}: unknown sense {sid!r} (not defined in the file "
                    f"nor in the store)"
                )


def _store_entities(store: GraphStore | None, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the store holds (``get_entities`` if offered, else via the alias table)."""
    if store is None:
        return set()
    ids = set(ids)
    getter = getattr(store, "get_entities", None)
    if callable(getter):
        return set(getter(sorted(ids))) & ids
    return {row.entity_id for row in store.alias_table()} & ids


def _to_records(
    entities: dict[str, tuple[int, EntityLine]],
    aliases: list[tuple[int, AliasLine]],
    senses: dict[str, tuple[int, SenseLine]],
    relations: list[tuple[int, RelationLine]],
) -> ParsedKG:
    """Validated lines -> store records (an entity's name and alias list become aliases)."""
    ents, alias_out = [], []
    for _, e in entities.values():
        ents.append(Entity(e.id, e.name))
        alias_out.extend(Alias(t, e.id, e.lang) for t in dict.fromkeys([e.name, *e.aliases]))
    alias_out.extend(Alias(a.text, a.entity, a.lang) for _, a in aliases)
    alias_out = list(dict.fromkeys(alias_out))

    # Rank: as given, else the sense's position among that entity's senses in file order.
    next_rank: dict[str, int] = {}
    sense_out, links = [], []
    for _, s in senses.values():
        sense_out.append(Sense(s.id, s.label, s.gloss))
        for eid in s.entity_ids():
            rank = s.rank if s.rank is not None else next_rank.get(eid, 1)
            next_rank[eid] = max(next_rank.get(eid, 1), rank + 1)
            links.append(HasSense(eid, s.id, rank))
    rels = list(
        dict.fromkeys(Relation(r.source, r.target, r.type, r.weight) for _, r in relations)
    )
    return ParsedKG(ents, alias_out, sense_out, links, rels)
