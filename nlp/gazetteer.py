"""NER layer from the graph's own names: phrase matching of every entity name and alias.

Long names match case-insensitively; short all-caps aliases ("AF", "PFE") and names of up to three
characters with a capital ("Mg") only as written (``kg.names.matches_as_written``), so "af" or "5 mg" in
running text is not taken for atrial fibrillation or magnesium.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from kg.names import matches_as_written
from kg.records import Mention

_PRIORITY = 30


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
            (exact if matches_as_written(surface) else lower).append((key, surface))
        for matcher, rows in ((self._lower, lower), (self._exact, exact)):
            by_key: dict[str, list[str]] = {}
            for key, surface in rows:
                by_key.setdefault(key, []).append(surface)
            for key, surfaces in by_key.items():
                matcher.add(key, list(self._nlp.tokenizer.pipe(surfaces)))
                self._targets[self._nlp.vocab.strings[key]] = tuple(key.split("\t"))  # type: ignore[assignment]

    def from_doc(self, doc) -> list[Mention]:
        """Longest non-overlapping matches in a spaCy Doc."""
        spans = []
        for matcher in (self._lower, self._exact):
            for match_id, start, end in matcher(doc):
                spans.append((doc[start:end], match_id))
        spans.sort(key=lambda s: (-(s[0].end_char - s[0].start_char), s[0].start_char))
        taken: list[tuple[int, int]] = []
        out = []
        for span, match_id in spans:
            a, b = span.start_char, span.end_char
            if any(a < y and x < b for x, y in taken):
                continue
            taken.append((a, b))
            entity_id, kind = self._targets[match_id]
            out.append(Mention(a, b, span.text, kind, entity_id, 1.0))
        return sorted(out, key=lambda m: m.start)

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        return [self.from_doc(doc) for doc in self._nlp.tokenizer.pipe(texts)]

