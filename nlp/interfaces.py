"""The seams inside ``nlp``: each layer of the extractor is one of these small protocols.

The ``Extractor`` (nlp/extractor.py) runs, per document:
    sentences -> every ``NERLayer`` -> merge overlaps -> ``Linker`` -> every ``RelationLayer``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

from kg.records import Entity, Mention, Triple


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document: character offsets into the document text."""

    start: int
    end: int
    text: str


@runtime_checkable
class NERLayer(Protocol):
    """Finds entity mentions. Offsets are characters into the given text (end exclusive).

    Optional attributes the profiles and the extractor read (see :func:`layer_kind`): ``kind`` ("names",
    "cnn" or "transformer") and ``vote_weight`` (votes in the accurate profile's vote; by default 2 for a
    transformer, 1 otherwise: ``nlp.ner.vote.vote_weight``); and, for a trained layer, ``entity_types`` (the
    types it was trained on: ``kgnlp eval ner`` names gold types no --model knows).
    """

    name: str
    priority: int  # higher wins when spans of two layers overlap

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        """Mentions for each text, with ``label`` one of kg.schema.ENTITY_TYPES (or a user type)."""


@dataclass(frozen=True)
class Linked:
    """The linker's answer for one document: linked mentions and the new entities they created."""

    mentions: tuple[Mention, ...]
    new_entities: tuple[Entity, ...]


@runtime_checkable
class Linker(Protocol):
    """Gives each mention an entity id (an existing one, or a new one it creates), with a score."""

    def link(self, text: str, mentions: Sequence[Mention]) -> Linked:
        ...


@runtime_checkable
class RelationLayer(Protocol):
    """Finds facts between linked mentions of one document; every triple carries provenance."""

    name: str

    def extract(self, doc_id: str, text: str, sentences: Sequence[Sentence],
                mentions: Sequence[Mention], types: dict[str, str]) -> list[Triple]:
        """``types`` maps entity id -> entity type for the mentions given."""


def layer_kind(layer) -> str:
    """What kind of NER layer this is: "names" (graph-name matching), "cnn" (a spaCy CNN), "transformer"
    (a transformer or graph-fused token classifier), or "" for a layer that does not say."""
    return str(getattr(layer, "kind", ""))
