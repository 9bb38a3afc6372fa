"""NER layer from the graph's own names: phrase matching of every entity name and alias.

Long names match as their keys do (``kg.names.normalise``: case, accents, Roman numerals and possessive
endings folded, so "Sjogren syndrome" in a text finds "Sjögren's syndrome" and "type II diabetes" finds "type 2
diabetes"), token by token, with offsets into the text as written; short all-caps aliases ("AF", "PFE") and names
of up to three characters with a capital ("Mg") only as written (``kg.names.matches_as_written``), so "af" or "5 mg" in
running text is not taken for atrial fibrillation or magnesium. Abbreviations follow the document's own
definitions (``nlp.abbreviations.relink_short_forms``): "SD" after "standard deviation (SD)" links to nothing.
"""
from __future__ import annotations

import bisect
from typing import Iterable, Sequence

from kg.names import fold, joins_as_space, key_words, keyed_after, matches_as_written, normalise
from kg.records import Mention
from nlp.abbreviations import relink_short_forms

_PRIORITY = 30


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` overlaps one of ``spans`` (sorted, disjoint (start, end) pairs)."""
    i = bisect.bisect_left(spans, (end,))  # the spans that start before ``end``; the last of them ends last
    return i > 0 and spans[i - 1][1] > start


def _last_word(parts: list[str]) -> str:
    """The last word of ``kg.names.key_words`` parts ("" when there is none)."""
    return next((w for w in reversed(parts[::2]) if w), "")


class Gazetteer:
    """Matches known names; each match carries its entity id and type. Add names as the graph grows."""

    name = "graph-names"
    kind = "names"
    priority = _PRIORITY

    def __init__(self, nlp) -> None:
        from spacy.matcher import PhraseMatcher

        self._nlp = nlp
        self._lower = PhraseMatcher(nlp.vocab, attr="ORTH")  # over keyed docs (``_keyed``)
        self._exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._targets: dict[int, tuple[str, str]] = {}
        self._seen: set[tuple[str, str]] = set()
        self._by_name: dict[str, tuple[str, str]] = {}  # name (normalised unless as written) -> first target
        self._token_keys: dict[int, tuple[str, str | None, str, int]] = {}  # see _token_key

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
                docs = self._nlp.tokenizer.pipe(surfaces)
                matcher.add(key, [self._keyed(d, d.text)[0] for d in docs] if matcher is self._lower else list(docs))
                self._targets[self._nlp.vocab.strings[key]] = tuple(key.split("\t"))  # type: ignore[assignment]

    def from_doc(self, doc, text: str | None = None) -> list[Mention]:
        """Longest non-overlapping matches in a spaCy Doc, after the short-form rule; a long form links to the
        name matched exactly over it. ``text`` is ``doc.text`` when the caller has it (spaCy rebuilds it)."""
        if text is None:
            text = doc.text
        found: list[tuple[int, int, tuple[str, str]]] = []
        for match_id, start, end in self._exact(doc):
            span = doc[start:end]
            found.append((span.start_char, span.end_char, self._targets[match_id]))
        keyed, starts, ends = self._keyed(doc, text)
        found += [(starts[a], ends[b - 1], self._targets[match_id]) for match_id, a, b in self._lower(keyed)]
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

    def _keyed(self, doc, text: str):
        """A Doc of ``doc``'s tokens as name keys ("Sjögren", "'s", "syndrome" -> "sjogren", "syndrome"), and the
        start and end offset in ``text`` (``doc.text``) of each keyed token. A possessive ending glued to a word is
        dropped, as ``normalise`` drops it from the word."""
        from spacy.tokens import Doc

        words: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        previous, previous_end = "", 0  # the last word keyed, and where it ends
        for orth, start in doc.to_array(["ORTH", "IDX"]).tolist():  # no Token objects: they cost most of the time
            low, key, last, size = self._token_key(orth)
            end = start + size
            if words and ends[-1] == start and words[-1][-1:].isalnum() and (
                    low == "'s" or low == "'" and words[-1].endswith("s")):
                continue
            if key is None:
                parts = key_words(low, previous, text[previous_end:start] if previous else " ")
                key, last = "".join(parts), _last_word(parts)
                if parts[0].isdigit() and not key[len(parts[0]):].strip(".,;:!?"):  # "Phase I." ends a sentence
                    end -= len(key) - len(parts[0])
                    key = parts[0]
            if not key:
                continue
            if words and words[-1] == "-" and joins_as_space(previous, text[previous_end:start], key):
                del words[-1], starts[-1], ends[-1]  # "Type-II": "type", "2", as "type II" and "type 2" are
            if last:
                previous, previous_end = last, end
            if "-" in low and " " in key:  # "type-2" is the words "type", "2" (a token holds no space)
                *heads, key = key.split(" ")
                words += heads
                starts += [start] * len(heads)
                ends += [end] * len(heads)
            words.append(key)
            starts.append(start)
            ends.append(end)
        return Doc(self._nlp.vocab, words=words or [" "]), starts, ends

    def _token_key(self, orth: int) -> tuple[str, str | None, str, int]:
        """A token's folded text, its key (None when that depends on the word before it), its last keyed word
        ("" for punctuation) and its length, by the token's ORTH id (cached)."""
        got = self._token_keys.get(orth)
        if got is None:
            token = self._nlp.vocab.strings[orth]
            low = fold(token)
            parts = key_words(low)
            got = (low, None if keyed_after(low) else "".join(parts), _last_word(parts), len(token))
            if len(self._token_keys) < 500_000:
                self._token_keys[orth] = got
        return got

    def _long_form(self, forms: Sequence[str]) -> tuple[str, str] | None:
        """The target of a long form that no match covers exactly (its singular, say), by name."""
        for form in forms:
            hit = self._by_name.get(form) or self._by_name.get(normalise(form))
            if hit:
                return hit
        return None

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        return [self.from_doc(doc, text) for doc, text in zip(self._nlp.tokenizer.pipe(texts), texts)]

