"""NER layer from the stock spaCy model: organisations, people and places (it knows no drugs)."""
from __future__ import annotations

from typing import Sequence

from kg.records import Mention
from nlp.abbreviations import STATISTICAL

LABELS = {"ORG": "Organization", "PERSON": "Person", "GPE": "Location", "LOC": "Location", "FAC": "Location"}
_TRIM_START = ("the ", "The ")
_QUOTES = "\"'“”‘’"  # a defined term's quotes the model took in: '(the “Merger Agreement”)'


class SpacyNER:
    """Maps the stock model's ORG/PERSON/GPE/LOC/FAC to our types; drops the rest."""

    name = "spacy"
    priority = 10

    def __init__(self, nlp) -> None:
        self._nlp = nlp

    def from_doc(self, doc) -> list[Mention]:
        out = []
        full = None  # Doc.text rebuilds the string from tokens: once per doc at most
        for ent in doc.ents:
            label = LABELS.get(ent.label_)
            if label is None:
                continue
            start, text = _trim_start(ent.start_char, ent.text)
            text = text.rstrip(_QUOTES)
            if text.endswith("'s") or text.endswith("\u2019s"):
                text = text[:-2]
            text = text.rstrip(" ,.;:" + _QUOTES)
            # "healthcare group" is a description, not a name; "95% CI" a statistic, not an organisation (but "Portland,
            # OR" is a place)
            if len(text) < 2 or text.lower() == text or (text in STATISTICAL and label != "Location"):
                continue
            if full is None:
                full = doc.text
            if full[start + len(text) : start + len(text) + 14].startswith(("-based", "-headquartered")):
                label = "Location"  # "Lyon-based": a place, whatever the tagger said
            out.append(Mention(start, start + len(text), text, label, None, 0.7))
        return out

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        return [self.from_doc(doc) for doc in self._nlp.pipe(texts)]


def _trim_start(start: int, text: str) -> tuple[int, str]:
    """A mention's start and text without a leading "the" and the opening quotes around it ('the “Company')."""
    trimmed = text.lstrip(_QUOTES)
    for prefix in _TRIM_START:
        if trimmed.startswith(prefix):
            trimmed = trimmed[len(prefix):].lstrip(_QUOTES)
    return start + len(text) - len(trimmed), trimmed
