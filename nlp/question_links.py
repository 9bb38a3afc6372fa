"""The entities a question names: the longest known names first, and terms the graph has only kinds of
("cancer": "lung cancer")."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kg.names import is_corporate_suffix, normalise
from kg.records import Entity
from kg.store import GraphStore
from kg.views import entities_named, searched_once
from nlp.narrower import narrower_by_name
from nlp.question_cues import CUES, has_cue

_TOKEN = re.compile(r"[\w][\w\-\.&']*[\w]|[\w]")
_STOP = set("""a an the what which who whom whose where when why how is are was were be been do does did of in on at
to for by with and or that this these those it its their company companies drug drugs firm firms any all some
has have had can could will would should may might me tell list name give show please there""".split())
_MAX_NGRAM = 8
_WORD_SEARCH = 60  # matches of each word fetched: every one for all but the commonest words, so no phrase holding it
                   # needs a search of its own
BROAD = "\x00broad:"  # the id of a term the graph has no entity for but narrower ones ("cancer": "lung cancer")


@dataclass(frozen=True)
class LinkedEntity:
    entity: Entity
    start: int
    end: int
    named: tuple[Entity, ...] = ()  # every entity the span names exactly ("Mercury": the metal and the firm)
    narrower: tuple[Entity, ...] = ()  # a term the graph has no entity for: its narrower entities (found once)


def link_question(store: GraphStore, question: str) -> list[LinkedEntity]:
    """Known entities named in the question: longest n-grams first, no overlaps. Its words are searched first, so
    that where one has few matches, those of the phrases that hold it are found among them (``searched_once``)."""
    store = searched_once(store)
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(question)]
    for a, b in tokens:
        if normalise(question[a:b]) not in _STOP:
            store.find_entities(question[a:b], limit=_WORD_SEARCH)
    found: list[LinkedEntity] = []
    taken: list[tuple[int, int]] = []
    for size in range(min(_MAX_NGRAM, len(tokens)), 0, -1):
        for i in range(len(tokens) - size + 1):
            a, b = tokens[i][0], tokens[i + size - 1][1]
            if any(a < y and x < b for x, y in taken):
                continue
            text = question[a:b]
            text = re.sub(r"['\u2019]s$", "", text)
            words = normalise(text).split()
            if not words or all(w in _STOP for w in words):
                continue
            named = entities_named(store, text)
            if named and _part_of_another_name(store, named, text, question[a + len(text):]):
                continue
            if named:
                found.append(LinkedEntity(named[0], a, a + len(text), tuple(named)))
                taken.append((a, b))
    found += _broad_terms(store, question, tokens, taken)
    return sorted(found, key=lambda le: le.start)


_MAX_BROAD = 3  # words in a term the graph has no entity for but narrower ones ("cancer", "kidney injury")


def _broad_terms(store: GraphStore, question: str, tokens: list[tuple[int, int]],
                 taken: list[tuple[int, int]]) -> list[LinkedEntity]:
    """Terms the graph has no entity for but kinds of ("What causes cancer?": "lung cancer"), as entities that
    stand for them (id ``BROAD``...; their answers come from the narrower entities, which they carry), longest
    first, no overlaps."""
    cued = [(m.start(), m.end()) for pattern, _, _ in CUES for m in re.finditer(pattern, question.lower())]
    found = []
    for size in range(min(_MAX_BROAD, len(tokens)), 0, -1):
        for i in range(len(tokens) - size + 1):
            a, b = tokens[i][0], tokens[i + size - 1][1]
            words = normalise(question[a:b]).split()
            if (not words or any(w in _STOP for w in words) or any(a < y and x < b for x, y in taken + cued)):
                continue
            narrower = narrower_by_name(store, (question[a:b],))
            if narrower:
                term = Entity(BROAD + normalise(question[a:b]), question[a:b], narrower[0].type)
                found.append(LinkedEntity(term, a, b, (term,), tuple(narrower)))
                taken.append((a, b))
    return found


_NEXT_WORD = re.compile(r"\s+([A-Z][a-z]+)\b")


def _part_of_another_name(store: GraphStore, named: list[Entity], text: str, rest: str) -> bool:
    """An organisation's name followed by a capitalised word that is no corporate suffix, cue, or known name
    ("Northwind" in "Northwind Capital") is part of the name of a firm the graph does not know; a word that
    begins the next word of the firm's own name ("Corvane Pharma" for Corvane Pharmaceuticals) is not."""
    m = _NEXT_WORD.match(rest)
    if m is None or any(e.type != "Organization" for e in named):
        return False
    word = m.group(1)
    longer = normalise(f"{text} {word}")
    return (word.lower() not in _STOP and not is_corporate_suffix(word)
            and not has_cue(word)
            and not entities_named(store, word)
            and not any(normalise(n).startswith(longer) for e in named for n in (e.name, *e.aliases)))
