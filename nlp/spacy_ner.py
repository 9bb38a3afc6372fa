"""NER layer from the stock spaCy model: organisations, people and places (it knows no drugs)."""
from __future__ import annotations

import re
from typing import Sequence

from kg.records import Mention
from nlp.abbreviations import STATISTICAL
from nlp.drug_names import is_drug_name

LABELS = {"ORG": "Organization", "PERSON": "Person", "GPE": "Location", "LOC": "Location", "FAC": "Location"}
_TRIM_START = ("the ", "The ")
_QUOTES = "\"'“”‘’"  # a defined term's quotes the model took in: '(the “Merger Agreement”)'
# an academic or professional degree written after a person's name ("Jane Smith, MD, MPH"): the model reads 'MD' as
# Maryland and 'MPH' as an organisation
_DEGREE = (r"(?:M\.?D|Ph\.?D|D\.?Phil|MPH|M\.?B\.?A|MBBS|MBChB|Pharm\.?D|DrPH|Dr\.?P\.?H|D\.?O|D\.?D\.?S|DMD|DNP|R\.?N"
           r"|M\.?Sc?|B\.?Sc?|MSN|FRCP|FRCPC|FRCS|FACP|FACC|FACS|FAHA|FESC)\.?")
_ONE_DEGREE = re.compile(_DEGREE)
_TRAILING_DEGREES = re.compile(r"(?:,?\s+" + _DEGREE + r")+$")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_BETWEEN_DEGREES = re.compile(r"[\s,]*")  # what may stand between a name and its degree, or two degrees
# the period of an abbreviation that ends a name, part of the name: a corporate suffix ("Acme Holdings, Inc."), "Jr.",
# or initials ("Philips N.V.", "the U.S."); 'plc', 'AG' and 'GmbH' have none
_NAME_PERIOD = re.compile(r"(?:\b(?:Inc|Corp|Ltd|Co|Bros|Jr|Sr|S\.p\.A)|(?<![\w.])(?:[A-Za-z]\.)+[A-Za-z])\.$")
# a gene, protein, hormone or virus symbol, which the model takes for an organisation (also a person or a place):
# letters, a hyphen and a number or Greek letter ("GLP-1", "IL-6", "PD-L1", "IL-1β", "TNF-alpha", "NF-κB",
# "COVID-19"), or a known symbol family's letters and a number ("HER2", "BRCA1", "CD4", "CYP3A4", "HbA1c"); a
# qualifier may follow ("HER2-positive"). Bare acronyms ("CRP", "FDA") and "G20" or "MI5" are not of that shape.
_GREEK = r"(?:alpha|beta|gamma|delta|kappa|[\u03b1-\u03c9])"
_SYMBOL = re.compile(
    r"(?:[A-Z][A-Za-z]{1,5}-(?:[A-Z]{0,2}\d{1,3}[A-Za-z\u03b1-\u03c9]{0,2}|" + _GREEK + r"[A-Za-z0-9]{0,2})"
    r"|(?:CD|HER|BRCA|ACE|SGLT|CYP|COX|IL|TLR|JAK|HLA|CCR|CXCR|MMP|FGFR?|IGF|TGF|VEGFR?|EGFR?|PDGF|HIF|PPAR|GLP|GIP"
    r"|DPP|PCSK|APO|TP|BCL|CDK|ERBB|STAT|SMAD|HbA)\d{1,2}[A-Za-z0-9]{0,3})(?:-[a-z]+)?")
_WORD_BEFORE = re.compile(r"[^\s,;:()\[\]/]*$")
_WORD_AFTER = re.compile(r"[^\s,;:()\[\]/]*")
_WORD_END = re.compile(r"(?:['\u2019]s)?\.?$")


class SpacyNER:
    """Maps the stock model's ORG/PERSON/GPE/LOC/FAC to our types; drops the rest."""

    name = "spacy"
    priority = 10

    def __init__(self, nlp) -> None:
        self._nlp = nlp

    def from_doc(self, doc) -> list[Mention]:
        out = []
        full = None  # Doc.text rebuilds the string from tokens: once per doc at most
        person_end = -1  # where the last person's name, or a degree after it, ends
        for ent in doc.ents:
            label = LABELS.get(ent.label_)
            if label is None:
                continue
            start, text = _trim_start(ent.start_char, ent.text)
            if _ONE_DEGREE.fullmatch(text.rstrip(" ,")) and person_end >= 0:
                if full is None:
                    full = doc.text
                if _BETWEEN_DEGREES.fullmatch(full[person_end:start]):
                    person_end = ent.end_char  # "Jane Smith, MD": the name's degree, no place
                    continue
            if label == "Person":
                text = _TRAILING_DEGREES.sub("", text)  # "J. Smith MD"
                person_end = ent.end_char
            text = text.rstrip(_QUOTES)
            if text.endswith("'s") or text.endswith("\u2019s"):
                text = text[:-2]
            text = _trim_end(text)
            # "healthcare group" is a description, not a name; "95% CI" a statistic, not an organisation (but "Portland,
            # OR" is a place); two paragraphs ('UNITED STATES\n\nSECURITIES AND EXCHANGE COMMISSION') are no name
            if (len(text) < 2 or text.lower() == text or (text in STATISTICAL and label != "Location")
                    or _BLANK_LINE.search(text)):
                continue
            if full is None:
                full = doc.text
            if _in_symbol(full, start, start + len(text)):
                continue  # "GLP-1", the "TNF" of "TNF-alpha": no organisation (the graph's names still match it)
            if label != "Organization" and is_drug_name(text):
                continue  # "Paroxetine was given": a drug's generic name, no person (nlp.drug_names then finds it);
                # firms are named so too ("Genmab", "Medivir"), and an organisation's tag stays
            if full[start + len(text) : start + len(text) + 14].startswith(("-based", "-headquartered")):
                label = "Location"  # "Lyon-based": a place, whatever the tagger said
            out.append(Mention(start, start + len(text), text, label, None, 0.7))
        return out

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        return [self.from_doc(doc) for doc in self._nlp.pipe(texts)]


def _trim_end(text: str) -> str:
    """A mention's text without the punctuation and quotes after it, but for the period of an abbreviation that ends
    the name (:data:`_NAME_PERIOD`): a new firm "Acme Holdings, Inc." was stored as 'Acme Holdings, Inc'. Any other
    period is a sentence's ("We met Acme.")."""
    kept = text.rstrip(" ,.;:" + _QUOTES)
    if text[len(kept):].startswith(".") and _NAME_PERIOD.search(kept + "."):
        return kept + "."
    return kept


def _trim_start(start: int, text: str) -> tuple[int, str]:
    """A mention's start and text without a leading "the" and the opening quotes around it ('the “Company')."""
    trimmed = text.lstrip(_QUOTES)
    for prefix in _TRIM_START:
        if trimmed.startswith(prefix):
            trimmed = trimmed[len(prefix):].lstrip(_QUOTES)
    return start + len(text) - len(trimmed), trimmed


def _in_symbol(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is, or is part of, a word of the shape of a biomedical symbol (``_SYMBOL``)."""
    before = _WORD_BEFORE.search(text, max(0, start - 20), start)
    after = _WORD_AFTER.match(text, end, end + 20)
    word = _WORD_END.sub("", text[before.start():after.end()], count=1)
    return _SYMBOL.fullmatch(word) is not None
