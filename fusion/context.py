"""``build_kg_context``: the knowledge a fused model reads for one text.

Linked mentions (character spans with entity ids) come from a :class:`NameLinker` (fast longest-match over
the graph's names and aliases, no spaCy) or from any object with ``analyse(texts)`` such as
``nlp.extractor.Extractor``. Facts come from the graph around the linked entities (verbalised with the
schema) and, when a retriever is given, from the FAISS fact index. Each fact is anchored to the mention it is
about (``anchor`` = index into ``mentions``) or to the whole input (``anchor = -1``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

from kg.names import normalise
from kg.records import Mention
from kg.schema import Schema
from kg.store import GraphStore

_TOKEN = re.compile(r"\w(?:[\w'\-/+]*\w)?")
_STOP = frozenset(
    "a an and are as at be by can did do does for from has have how in is it its of on or that the this to "
    "was were what when where which who whom why will with".split()
)


@dataclass(frozen=True)
class Fact:
    """A verbalised fact; ``anchor`` is the index of the mention it is about, -1 for the whole input."""

    text: str
    anchor: int
    source: str  # "graph" or "faiss"
    triple: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class KGContext:
    """Linked mentions (entity ids and character spans into ``text``) and the facts found for them."""

    text: str
    mentions: tuple[Mention, ...] = ()
    facts: tuple[Fact, ...] = ()

    @property
    def entity_ids(self) -> tuple[str, ...]:
        seen: list[str] = []
        for m in self.mentions:
            if m.entity_id and m.entity_id not in seen:
                seen.append(m.entity_id)
        return tuple(seen)


class Linker(Protocol):
    def link(self, text: str) -> list[Mention]: ...


class NameLinker:
    """Longest-first n-gram match of a text against entity names and aliases (normalised)."""

    def __init__(self, names: dict[str, tuple[str, str]], max_ngram: int = 6, min_chars: int = 3) -> None:
        self.names, self.max_ngram, self.min_chars = names, max_ngram, min_chars

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str]], **kw: int) -> "NameLinker":
        """From ``(surface, entity_id, type)`` rows such as ``GraphStore.names()``; the first id per name wins."""
        names: dict[str, tuple[str, str]] = {}
        for surface, entity_id, kind in rows:
            key = normalise(surface)
            if key and key not in names:
                names[key] = (entity_id, kind)
        return cls(names, **kw)

    @classmethod
    def from_store(cls, store: GraphStore, **kw: int) -> "NameLinker":
        return cls.from_rows(store.names(), **kw)

    def link(self, text: str) -> list[Mention]:
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        covered = [False] * len(tokens)
        found: list[Mention] = []
        for n in range(min(self.max_ngram, len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                if any(covered[i:i + n]):
                    continue
                start, end = tokens[i][0], tokens[i + n - 1][1]
                key = normalise(text[start:end])
                if n == 1 and (key in _STOP or len(key) < self.min_chars):
                    continue
                hit = self.names.get(key)
                if hit:
                    covered[i:i + n] = [True] * n
                    found.append(Mention(start, end, text[start:end], hit[1], hit[0]))
        return sorted(found, key=lambda m: m.start)


class _AnalyserLinker:
    """Adapts an ``Extractor`` (``analyse(texts)``) to :class:`Linker`; keeps linked mentions only."""

    def __init__(self, analyser) -> None:
        self.analyser = analyser

    def link(self, text: str) -> list[Mention]:
        return [m for m in self.analyser.analyse([text])[0].mentions if m.entity_id]


def as_linker(obj) -> Linker:
    """A :class:`Linker` from a linker, or from an extractor with ``analyse``."""
    if hasattr(obj, "link") and not hasattr(obj, "analyse"):
        return obj
    if hasattr(obj, "analyse"):
        return _AnalyserLinker(obj)
    from fusion.errors import FusionError

    raise FusionError(f"Expected a linker (link(text)) or an extractor (analyse(texts)), got {type(obj).__name__}.")


def build_kg_context(
    text: str,
    store: GraphStore | None,
    embeddings=None,
    retriever=None,
    *,
    linker=None,
    schema: Schema | None = None,
    facts_per_entity: int = 2,
    max_facts: int = 8,
    retrieved: int = 2,
) -> KGContext:
    """Linked mentions and verbalised facts for ``text``.

    Graph facts: up to ``facts_per_entity`` one-hop triples per linked entity, most plausible first when
    ``embeddings`` (a ``KGEmbeddings``) can score them, else by confidence. FAISS facts: the ``retrieved``
    best hits of ``retriever.search(text, kind="facts")``, anchored to a mention when they name its entity.
    Build the linker once (``NameLinker.from_store(store)``) when calling this for many texts.
    """
    if linker is None:
        if store is None:
            return KGContext(text)
        linker = NameLinker.from_store(store)
    mentions = tuple(as_linker(linker).link(text))
    schema = schema or Schema()
    facts: list[Fact] = []
    seen: set[tuple[str, str, str]] = set()
    first_mention: dict[str, int] = {}
    for i, m in enumerate(mentions):
        if m.entity_id and m.entity_id not in first_mention:
            first_mention[m.entity_id] = i
    if store is not None:
        for entity_id, anchor in first_mention.items():
            triples = store.neighbours(entity_id, hops=1)
            ranked = _rank(triples, embeddings)
            for t in ranked[:facts_per_entity]:
                if t.key in seen:
                    continue
                seen.add(t.key)
                facts.append(Fact(_verbalise(store, schema, t.head_id, t.relation, t.tail_id), anchor, "graph", t.key))
    if retriever is not None and retrieved > 0:
        for hit in retriever.search(text, k=retrieved, kind="facts", entity_ids=list(first_mention)):
            if hit.triple and tuple(hit.triple) in seen:
                continue
            anchor = next((first_mention[e] for e in hit.entity_ids if e in first_mention), -1)
            facts.append(Fact(hit.text, anchor, "faiss", tuple(hit.triple) if hit.triple else None))
    return KGContext(text, mentions, tuple(facts[:max_facts]))


def _rank(triples: Sequence, embeddings) -> list:
    if embeddings is None:
        return sorted(triples, key=lambda t: (-t.confidence, t.key))

    def plaus(t) -> float:
        s = embeddings.score(t.head_id, t.relation, t.tail_id)
        return float("-inf") if s is None else s

    return sorted(triples, key=lambda t: (-plaus(t), t.key))


_NAMES: dict[tuple[int, str], str] = {}


def _name(store: GraphStore, entity_id: str) -> str:
    key = (id(store), entity_id)
    if key not in _NAMES:
        ent = store.entity(entity_id)
        _NAMES[key] = ent.name if ent else entity_id
    return _NAMES[key]


def _verbalise(store: GraphStore, schema: Schema, head: str, relation: str, tail: str) -> str:
    return schema.verbalise(_name(store, head), relation, _name(store, tail))
