"""The relation schema: names, which entity types they join, and how to say them in words.

Users add relation types in a TOML file (``[[relations]]`` tables, see README); the
built-in ones below are always present.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from kg.errors import KGError

ENTITY_TYPES = ("Chemical", "Disease", "Organization", "Person", "Location")
ANY = "*"
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


@dataclass(frozen=True)
class RelationType:
    """One relation: allowed head and tail types (``*`` = any), and its verb phrase.

    ``when``: entity ids of which a text must mention one for a fact of this relation to be read with it (a
    fused model's facts, ``fusion.context.EntityFacts``): ``net sales RISING_IS favourable`` says something about
    a sentence that says net sales went up, not about every sentence naming net sales. Empty: always."""

    name: str
    head_types: tuple[str, ...]
    tail_types: tuple[str, ...]
    verb: str
    symmetric: bool = False
    patterns: tuple[str, ...] = ()
    when: tuple[str, ...] = ()

    def accepts(self, head_type: str, tail_type: str) -> bool:
        return fits_type(head_type, self.head_types) and fits_type(tail_type, self.tail_types)


def fits_type(kind: str, allowed: tuple[str, ...]) -> bool:
    """Whether an entity of type ``kind`` may stand where ``allowed`` types may (``ANY``: every type)."""
    return ANY in allowed or kind in allowed


_MED = ("Chemical",)
_DIS = ("Disease",)
_ORG = ("Organization",)

BUILTIN_RELATIONS: tuple[RelationType, ...] = (
    RelationType("TREATS", _MED, _DIS, "treats"),
    RelationType("CAUSES", _MED, _DIS, "causes"),
    RelationType("INTERACTS_WITH", _MED, _MED, "interacts with", symmetric=True),
    RelationType("MANUFACTURES", _ORG, _MED, "manufactures"),
    RelationType("ASSOCIATED_WITH", ("Disease", "Chemical"), _DIS, "is associated with"),
    RelationType("ACQUIRED", _ORG, _ORG, "acquired"),
    RelationType("SUBSIDIARY_OF", _ORG, _ORG, "is a subsidiary of"),
    RelationType("CEO_OF", ("Person",), _ORG, "is the CEO of"),
    RelationType("HEADQUARTERED_IN", _ORG, ("Location",), "is headquartered in"),
    RelationType("INVESTED_IN", ("Organization", "Person"), _ORG, "invested in"),
    RelationType("PARTNERED_WITH", _ORG, _ORG, "partnered with", symmetric=True),
    # what a sentence reporting a study's result signals (``nlp.findings``, ``kgnlp findings``)
    RelationType("REPORTED_IN", ("Evidence",), ("Finding",), "is reported in"),
)


@dataclass(frozen=True)
class Schema:
    """The relation types in force: the built-ins plus any from a config file."""

    relations: tuple[RelationType, ...] = BUILTIN_RELATIONS

    def get(self, name: str) -> RelationType:
        for rel in self.relations:
            if rel.name == name:
                return rel
        known = ", ".join(r.name for r in self.relations)
        raise KGError(f"Unknown relation '{name}'. Choose one of: {known}.")

    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.relations)

    def verb(self, relation: str) -> str:
        """The words of ``relation`` ("treats"); an unknown relation's name in lower case."""
        try:
            return self.get(relation).verb
        except KGError:
            return relation.lower().replace("_", " ")

    def when(self, relation: str) -> tuple[str, ...]:
        """The entities a text must mention for facts of ``relation`` to apply to it (empty: always)."""
        return next((rel.when for rel in self.relations if rel.name == relation), ())

    def verbalise(self, head: str, relation: str, tail: str) -> str:
        return f"{head} {self.verb(relation)} {tail}"


def load_schema(path: Path | None) -> Schema:
    """The built-in schema, extended by the ``[[relations]]`` tables of a TOML file if given."""
    if path is None or not path.exists():
        return Schema()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KGError(f"Config file {path} is not valid TOML ({exc}). Fix the file or remove it.") from exc
    return extended_schema(_relation_from_table(t, path) for t in data.get("relations", []))


def extended_schema(extra: Iterable[RelationType]) -> Schema:
    """The built-in relations plus ``extra``; an extra relation with a built-in's name replaces it (a user
    table may refine a built-in: more patterns, other types, another verb)."""
    rels = {r.name: r for r in BUILTIN_RELATIONS}
    for rel in extra:
        rels[rel.name] = rel
    return Schema(tuple(rels.values()))


def _relation_from_table(table: dict, path: Path) -> RelationType:
    name = str(table.get("name", ""))
    if not _UPPER_SNAKE.match(name):
        raise KGError(
            f"Relation name '{name}' in {path} is not UPPER_SNAKE. Use a name like 'LICENSED_TO'."
        )
    builtin = {r.name: r for r in BUILTIN_RELATIONS}.get(name)
    head = tuple(table.get("head", builtin.head_types if builtin else (ANY,)))
    tail = tuple(table.get("tail", builtin.tail_types if builtin else (ANY,)))
    patterns = tuple(table.get("patterns", ())) + (builtin.patterns if builtin else ())
    for pat in patterns:
        try:
            re.compile(pat)
        except re.error as exc:
            raise KGError(f"Pattern {pat!r} of relation {name} in {path} is not a valid regex: {exc}.") from exc
    verb = str(table.get("verb", builtin.verb if builtin else name.lower().replace("_", " ")))
    symmetric = bool(table.get("symmetric", builtin.symmetric if builtin else False))
    when = table.get("when", builtin.when if builtin else ())
    when = (when,) if isinstance(when, str) else when
    if not isinstance(when, (list, tuple)) or not all(isinstance(w, str) and w.strip() for w in when):
        raise KGError(f"'when' of relation {name} in {path} must be a list of entity ids, like [\"fin:increase\"].")
    return RelationType(name, head, tail, verb, symmetric, patterns, tuple(when))
