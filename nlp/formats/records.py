"""Labelled documents: what the corpus loaders return and what training/evaluation consume."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def read_text(path: str | Path, what: str, fix: str = "") -> str:
    """The text of a labelled-data file, or a one-line NLPError: ``what`` (e.g. "IOB file") missing (``fix`` says
    what to pass), a folder, or not UTF-8."""
    from kg.errors import not_utf8
    from nlp.errors import NLPError

    path = Path(path)
    if path.is_dir():
        raise NLPError(f"{what} '{path}' is a folder, not a file.")
    try:
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors write one) is no text
    except FileNotFoundError:
        raise NLPError(f"{what} '{path}' does not exist.{' ' + fix if fix else ''}") from None
    except UnicodeDecodeError as exc:
        raise NLPError(not_utf8(f"{what} '{path}'", exc)) from None
