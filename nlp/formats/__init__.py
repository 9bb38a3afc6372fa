"""Corpus loaders that return labelled documents: PubTator, CoNLL/IOB, FiNER-ORD CSV, labelled JSONL."""
from __future__ import annotations

from pathlib import Path

from nlp.errors import NLPError
from nlp.formats.finer import read_finer_csv
from nlp.formats.iob import read_iob
from nlp.formats.jsonl import read_labelled_jsonl, write_labelled_jsonl
from nlp.formats.pubtator import read_pubtator
from nlp.formats.records import GoldMention, GoldRelation, LabelledDoc

FORMATS = {
    "pubtator": read_pubtator,
    "iob": read_iob,
    "finer-csv": read_finer_csv,
    "jsonl": read_labelled_jsonl,
}

__all__ = ["FORMATS", "GoldMention", "GoldRelation", "LabelledDoc", "load_labelled", "read_finer_csv",
           "read_iob", "read_labelled_jsonl", "read_pubtator", "write_labelled_jsonl"]


def load_labelled(path: str | Path, fmt: str) -> list[LabelledDoc]:
    """Labelled documents of a file in one of :data:`FORMATS`."""
    try:
        reader = FORMATS[fmt]
    except KeyError:
        raise NLPError(f"Unknown format '{fmt}'. Choose one of: {', '.join(FORMATS)}.") from None
    return reader(path)
