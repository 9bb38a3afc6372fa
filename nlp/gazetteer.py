"""NER layer from the graph's own names: phrase matching of every entity name and alias.

Long names match case-insensitively; short all-caps aliases ("AF", "PFE") and names of up to three
characters with a capital ("Mg") only as written (``kg.names.matches_as_written``), so "af" or "5 mg" in
running text is not taken for atrial fibrillation or magnesium. Abbreviations follow the document's own
definitions (``nlp.abbreviations.relink_short_forms``): "SD" after "standard deviation (SD)" links to nothing.
"""
from __future__ import annotations

import bisect
from typing import Iterable, Sequence

from kg.names import matches_as_written, normalise
from kg.records import Mention
from nlp.abbreviations import relink_short_forms

_PRIORITY = 30


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` overlaps one of ``spans`` (sorted, disjoint (start, end) pairs)."""
    i = bisect.bisect_left(spans, (end,))  # the spans that start before ``end``; the last of them ends last
    return i > 0 and spans[i - 1][1] > start


class Gazetteer:
    """Matches known names; each match carries its entity id and type. Add names as the graph grows."""

    name = "graph-names"
    kind = "names"
    priority = _PRIORITY

    def __init__(self, nlp) -> None:
        from spacy.matcher import PhraseMatcher

        self._nlp = nlp
        self._lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._targets: dict[int, tuple[str, str]] = {}
        self._seen: set[tuple[str, str]] = set()
        self._by_name: dict[str, tuple[str, str]] = {}  # name (normalised unless as written) -> first target

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, names: Iterable[tuple[str, str, str]]) -> None:
        """Add ``(surface name, entity id, type)`` rows."""
        lower, exact = [], []
        for surface, entity_id, kind in names:
            surface = surface.strip()
            if len(surface) < 2 or (surface, entity_id) in self._seen:
                continue
            self._seen.add((surface, entity_id))
            key = f"{entity_id}\t{kind}"
            written = matches_as_written(surface)
            (exact if written else lower).append((key, surface))
            self._by_name.setdefault(surface if written else normalise(surface), (entity_id, kind))
        for matcher, rows in ((self._lower, lower), (self._exact, exact)):
            by_key: dict[str, list[str]] = {}
            for key, surface in rows:
                by_key.setdefault(key, []).append(surface)
            for key, surfaces in by_key.items():
                matcher.add(key, list(self._nlp.tokenizer.pipe(surfaces)))
                self._targets[self._nlp.vocab.strings[key]] = tuple(key.split("\t"))  # type: ignore[assignment]

    def from_doc(self, doc, text: str | None = None) -> list[Mention]:
        """Longest non-overlapping matches in a spaCy Doc, after the short-form rule; a long form links to the
        name matched exactly over it. ``text`` is ``doc.text`` when the caller has it (spaCy rebuilds it)."""
        if text is None:
            text = doc.text
        found: list[tuple[int, int, tuple[str, str]]] = []
        for matcher in (self._lower, self._exact):
            for match_id, start, end in matcher(doc):
                span = doc[start:end]
                found.append((span.start_char, span.end_char, self._targets[match_id]))
        if found or "(" in text:
            by_span: dict[tuple[int, int], tuple[str, str]] = {}
            for a, b, target in found:
                by_span.setdefault((a, b), target)
            got = relink_short_forms(text, found, lambda d: by_span.get((d.long_start, d.long_end))
                                     or self._long_form(d.long_forms))
            if got is not found:  # an added short form must be whole tokens
                found = [f for f in got if (f[0], f[1]) in by_span or doc.char_span(f[0], f[1]) is not None]
        found.sort(key=lambda f: (f[0] - f[1], f[0]))
        taken: list[tuple[int, int]] = []  # sorted and disjoint: a look at its neighbour finds an overlap
        out = []
        for a, b, (entity_id, kind) in found:
            if overlaps(taken, a, b):
                continue
            bisect.insort(taken, (a, b))
            out.append(Mention(a, b, text[a:b], kind, entity_id, 1.0))
        return sorted(out, key=lambda m: m.start)

    def _long_form(self, forms: Sequence[str]) -> tuple[str, str] | None:
        """The target of a long form that no match covers exactly (its singular, say), by name."""
        for form in forms:
            hit = self._by_name.get(form) or self._by_name.get(normalise(form))
            if hit:
                return hit
        return None

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        return [self.from_doc(doc, text) for doc, text in zip(self._nlp.tokenizer.pipe(texts), texts)]

