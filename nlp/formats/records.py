"""Labelled documents: what the corpus loaders return and what training/evaluation consume."""
from __future__ import annotations

from dataclasses import dataclass

from kg.records import Document


@dataclass(frozen=True)
class GoldMention:
    """A gold entity span (character offsets, end exclusive) with its source-vocabulary ids."""

    start: int
    end: int
    text: str
    label: str
    ids: tuple[str, ...] = ()  # e.g. ("D015738",) in BC5CDR; empty when not normalised


@dataclass(frozen=True)
class GoldRelation:
    """A document-level relation between source-vocabulary ids (e.g. a BC5CDR CID pair)."""

    head: str
    relation: str
    tail: str


@dataclass(frozen=True)
class LabelledDoc:
    """A document with its gold mentions and relations."""

    doc: Document
    mentions: tuple[GoldMention, ...] = ()
    relations: tuple[GoldRelation, ...] = ()
