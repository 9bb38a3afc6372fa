"""``build_kg_context``: the knowledge a fused model reads for one text.

Linked mentions (character spans with entity ids) come from a :class:`NameLinker` (fast longest-match over
the graph's names and aliases, no spaCy) or from any object with ``analyse(texts)`` such as
``nlp.extractor.Extractor``. Facts come from the graph around the linked entities (verbalised with the
schema) and, when a retriever is given, from the FAISS fact index. Each fact is anchored to the mention it is
about (``anchor`` = index into ``mentions``) or to the whole input (``anchor = -1``).
"""
from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Collection, Iterable, Protocol, Sequence

from kg.names import KEYED_WORDS, matches_as_written, normalise
from kg.records import Mention
from kg.schema import Schema
from kg.store import GraphStore
from nlp.abbreviations import relink_short_forms

_TOKEN = re.compile(r"\w(?:[\w'\-/+]*\w)?")
_STOP = frozenset(
    "a an and are as at be by can did do does for from has have how in is it its of on or that the this to "
    "was were what when where which who whom why will with".split()
)


@dataclass(frozen=True)
class Fact:
    """A verbalised fact; ``anchor`` is the index of the mention it is about, -1 for the whole input.

    ``branch`` is the fact without the anchored entity's name (K-BERT's branch, read right after the
    mention: "treats diabetes" for "metformin treats diabetes" anchored at metformin, "metformin treats" when
    anchored at diabetes). It is empty (read ``text``) when the fact has no such form, or when the mention does
    not say the entity's name: after "decreased", linked to *decrease*, the whole "increase is the opposite of
    decrease" is what names the concept."""

    text: str
    anchor: int
    source: str  # "graph" or "faiss"
    triple: tuple[str, str, str] | None = None
    branch: str = ""


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
    """Longest-first n-gram match of a text against entity names and aliases (normalised).

    Only n-grams whose first token can start a name are normalised and looked up (an exact filter for ASCII
    texts; other texts take the plain path). :meth:`link_windows` links several windows of one document and
    looks each n-gram up once for all of them, with results identical to ``link`` on each window's text.
    Abbreviations follow ``nlp.abbreviations.relink_short_forms``, with the definitions of the text linked (a
    window sees only its own): "SD" links as "sexual dysfunction (SD)" says, not after "standard deviation
    (SD)", nor undefined.
    ``names`` is indexed when the linker is built: build a new linker when the names change.
    """

    def __init__(self, names: dict[str, tuple[str, str]], max_ngram: int = 6, min_chars: int = 3,
                 cased: dict[str, frozenset[str]] | None = None) -> None:
        self.names, self.max_ngram, self.min_chars = names, max_ngram, min_chars
        self.cased = cased or {}  # name key -> the only spellings it matches (short acronyms, "Mg")
        self._starts = _name_starts(names)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str]], **kw: int) -> "NameLinker":
        """From ``(surface, entity_id, type)`` rows such as ``GraphStore.names()``; the first id per name wins.
        A name whose every spelling is a short acronym (``kg.names.matches_as_written``: "ALL", "NO", "Mg")
        matches only as written, so "all", "no" or "5 mg" in running text link to nothing."""
        names: dict[str, tuple[str, str]] = {}
        cased: dict[str, set[str]] = {}
        loose: set[str] = set()
        for surface, entity_id, kind in rows:
            key = normalise(surface)
            if not key:
                continue
            if matches_as_written(surface):
                cased.setdefault(key, set()).add(surface.strip())
            else:
                loose.add(key)
            if key not in names:
                names[key] = (entity_id, kind)
        return cls(names, cased={k: frozenset(v) for k, v in cased.items() if k not in loose}, **kw)

    @classmethod
    def from_store(cls, store: GraphStore, **kw: int) -> "NameLinker":
        return cls.from_rows(store.names(), **kw)

    def link(self, text: str) -> list[Mention]:
        return self._link(text, 0, len(text), {})

    def link_windows(self, text: str, spans: Sequence[tuple[int, int]]) -> list[list[Mention]]:
        """``link(text[lo:hi])`` for every ``(lo, hi)`` (offsets relative to the window), sharing the name
        lookups of n-grams that several windows hold."""
        memo: dict[tuple[int, int], tuple[str, str] | None] = {}
        return [self._link(text, lo, hi, memo) for lo, hi in spans]

    def _link(self, doc: str, lo: int, hi: int, memo: dict) -> list[Mention]:
        text = doc if lo == 0 and hi == len(doc) else doc[lo:hi]
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        n_tok = len(tokens)
        top = min(self.max_ngram, n_tok)
        # ASCII: normalise(span) is the lowercased span with each whitespace character a space, unless the
        # span holds a run of whitespace, starts/ends with "_", or reaches past ``plain_to``, the next apostrophe
        # or word that may be a Roman numeral (``kg.names.KEYED_WORDS``): then normalise it as usual
        low = text.lower().translate(_ASCII_SPACE) if text.isascii() else None
        folds = [m.start() for m in KEYED_WORDS.finditer(low)] if low is not None else []
        folds.append(len(text))
        starts, names, stop, min_chars, cased = self._starts, self.names, _STOP, self.min_chars, self.cased
        hits: list[tuple[int, int, tuple[str, str]]] = []  # (n, i, hit)
        for i, (start, first_end) in enumerate(tokens):
            plain_to = folds[bisect.bisect_left(folds, start)]  # a span ending by here is keyed by lowercasing
            if low is not None and "_" not in low[start:first_end] and (
                    low[start:first_end] if first_end <= plain_to else normalise(text[start:first_end])) not in starts:
                continue  # no name starts with this token (see _name_starts)
            for n in range(1, min(top, n_tok - i) + 1):
                end = tokens[i + n - 1][1]
                span = (lo + start, lo + end)
                hit = memo.get(span, _UNSEEN)
                if hit is _UNSEEN:
                    key = low[start:end] if low is not None and end <= plain_to else None
                    if key is None or "  " in key or key[0] == "_" or key[-1] == "_":
                        key = normalise(text[start:end])
                    hit = names.get(key) if n > 1 or (key not in stop and len(key) >= min_chars) else None
                    if hit and key in cased:
                        hit = self._as_written(hit, key, text[start:end])
                    memo[span] = hit
                if hit:
                    hits.append((n, i, hit))
        if hits or "(" in text:
            hits = self._short_forms(text, tokens, hits)
        # the greedy pass of the plain algorithm (longest first, then left to right), over the hits only
        hits.sort(key=lambda h: (-h[0], h[1]))
        covered = [False] * n_tok
        found: list[Mention] = []
        for n, i, hit in hits:
            if any(covered[i:i + n]):
                continue
            covered[i:i + n] = [True] * n
            start, end = tokens[i][0], tokens[i + n - 1][1]
            found.append(Mention(start, end, text[start:end], hit[1], hit[0]))
        return sorted(found, key=lambda m: m.start)

    def _short_forms(self, text: str, tokens: list[tuple[int, int]], hits: list) -> list:
        """The n-gram hits after the short-form rule; an added short form must be an n-gram of whole tokens."""
        spans = [(tokens[i][0], tokens[i + n - 1][1], hit) for n, i, hit in hits]
        got = relink_short_forms(text, spans, lambda d: next(filter(None, map(self._lookup, d.long_forms)), None))
        if got is spans:
            return hits
        where = {(a, b): (n, i) for (a, b, _), (n, i, _) in zip(spans, hits)}
        first = last = None
        out = []
        for start, end, hit in got:
            got_at = where.get((start, end))
            if got_at is None:  # an added short form
                if first is None:
                    first = {a: k for k, (a, _) in enumerate(tokens)}
                    last = {b: k for k, (_, b) in enumerate(tokens)}
                i, j = first.get(start), last.get(end)
                if i is None or j is None or j - i >= self.max_ngram:
                    continue
                got_at = (j - i + 1, i)
            out.append((*got_at, hit))
        return out

    def _lookup(self, name: str) -> tuple[str, str] | None:
        """The entity a name in running text (a long form) links to, as written if it is a cased name."""
        key = normalise(name)
        hit = self.names.get(key)
        return self._as_written(hit, key, name.strip()) if hit and key in self.cased else hit

    def _as_written(self, hit: tuple[str, str], key: str, surface: str) -> tuple[str, str] | None:
        """``hit`` unless ``key`` is a name that matches only as written and ``surface`` writes it otherwise
        ("all" is not "ALL")."""
        return hit if surface in self.cased[key] else None


_UNSEEN = object()

_ASCII_SPACE = {i: " " for i in range(128) if re.fullmatch(r"\s", chr(i))}
_WORD = re.compile(r"\w")


def _name_starts(names: Iterable[str]) -> frozenset[str]:
    """Every prefix of a name key that ends at the key's end or right before a non-word character.

    In an ASCII text an n-gram starts with a token (no ``_``) followed by a non-word character or the end,
    and ``normalise`` only lowercases it and turns whitespace runs into one space (a token with an apostrophe or a
    word that may be a Roman numeral: its key starts the n-gram's key), so the lowercased (or keyed) first token of
    any n-gram that is a name is in this set; n-grams starting elsewhere need no lookup.
    """
    out: set[str] = set()
    for key in names:
        out.add(key)
        for j, ch in enumerate(key):
            if not _WORD.match(ch):
                out.add(key[:j])
    return frozenset(out)


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


class EntityFacts:
    """The best one-hop facts of each entity, verbalised, kept in an LRU cache (entity id -> facts).

    ``get(entity_id, present)`` is what :func:`build_kg_context` reads: up to ``facts_per_entity`` ``(triple key,
    text, branch)`` triples (``branch``: the text without the entity's own name), most plausible first when
    ``embeddings`` can score them, else by confidence. A fact whose relation has a condition (the schema's
    ``when``: ``RISING_IS`` when the text mentions *increase*) comes only when one of those entities is in
    ``present`` (the entities the text mentions), and then before the others: it says what the text is about.
    One object serves many texts, so each entity costs one store query and one ranking until it leaves the cache.
    """

    def __init__(self, store: GraphStore, embeddings=None, schema: Schema | None = None, facts_per_entity: int = 2,
                 maxsize: int = 50_000) -> None:
        self.store, self.embeddings, self.schema = store, embeddings, schema or Schema()
        self.facts_per_entity, self.maxsize = facts_per_entity, maxsize
        # entity id -> (its best unconditional facts, its conditional facts with their conditions)
        self._cache: OrderedDict[str, tuple[tuple, tuple]] = OrderedDict()
        self._names: dict[str, str] = {}

    def get(self, entity_id: str, present: Collection[str] = ()) -> tuple[tuple[tuple[str, str, str], str, str], ...]:
        cache = self._cache
        got = cache.get(entity_id)
        if got is None:
            ranked = _rank(self.store.neighbours(entity_id, hops=1), self.embeddings)
            when = {r: frozenset(self.schema.when(r)) for r in {t.relation for t in ranked}}
            plain = [t for t in ranked if not when[t.relation]][:self.facts_per_entity]
            got = (tuple(self._words(entity_id, t) for t in plain),
                   tuple((when[t.relation], self._words(entity_id, t)) for t in ranked if when[t.relation]))
            cache[entity_id] = got
            if len(cache) > self.maxsize:
                cache.popitem(last=False)
        else:
            cache.move_to_end(entity_id)
        plain, conditional = got
        if not conditional:
            return plain
        met = tuple(words for cond, words in conditional if not cond.isdisjoint(present))
        return (met + plain)[:self.facts_per_entity]

    def clear(self) -> None:
        self._cache.clear()
        self._names.clear()

    def _words(self, entity_id: str, t) -> tuple[tuple[str, str, str], str, str]:
        head, verb, tail = self.name(t.head_id), self.schema.verb(t.relation), self.name(t.tail_id)
        branch = f"{verb} {tail}" if t.head_id == entity_id else f"{head} {verb}"
        return t.key, self.schema.verbalise(head, t.relation, tail), branch

    def name(self, entity_id: str) -> str:
        """The entity's name (its id when the store does not have it), cached."""
        name = self._names.get(entity_id)
        if name is None:
            if len(self._names) > self.maxsize:
                self._names.clear()
            ent = self.store.entity(entity_id)
            name = self._names[entity_id] = ent.name if ent else entity_id
        return name


def build_kg_context(
    text: str,
    store: GraphStore | None,
    embeddings=None,
    retriever=None,
    *,
    linker=None,
    schema: Schema | None = None,
    facts_per_entity: int = 2,
    max_facts: int | None = 8,
    retrieved: int = 2,
    mentions: Sequence[Mention] | None = None,
    entity_facts: EntityFacts | None = None,
    within: str | None = None,
) -> KGContext:
    """Linked mentions and verbalised facts for ``text``.

    Graph facts: up to ``facts_per_entity`` one-hop triples per linked entity, most plausible first when
    ``embeddings`` (a ``KGEmbeddings``) can score them, else by confidence. FAISS facts: the ``retrieved``
    best hits of ``retriever.search(text, kind="facts")``, anchored to a mention when they name its entity.
    At most ``max_facts`` facts in all, the first mentions' first (None: no cap). ``within``: only FAISS facts
    read in that text (a provenance sentence of theirs is in it; ``retriever.search(..., within=...)``).
    Build the linker once (``NameLinker.from_store(store)``) when calling this for many texts, and pass an
    :class:`EntityFacts` (built with the same store, embeddings, schema and ``facts_per_entity``) to reuse
    each entity's facts; ``mentions`` are the text's linked mentions when the caller has them already.
    """
    if mentions is None:
        if linker is None:
            if store is None:
                return KGContext(text)
            linker = NameLinker.from_store(store)
        mentions = as_linker(linker).link(text)
    mentions = tuple(mentions)
    facts: list[Fact] = []
    seen: set[tuple[str, str, str]] = set()
    first_mention: dict[str, int] = {}
    for i, m in enumerate(mentions):
        if m.entity_id and m.entity_id not in first_mention:
            first_mention[m.entity_id] = i
    if store is not None and first_mention:
        if entity_facts is None:
            entity_facts = EntityFacts(store, embeddings, schema, facts_per_entity)
        for entity_id, anchor in first_mention.items():
            got = entity_facts.get(entity_id, first_mention)
            says_name = bool(got) and normalise(mentions[anchor].text) == normalise(entity_facts.name(entity_id))
            for key, fact_text, branch in got:
                if key in seen:
                    continue
                seen.add(key)
                facts.append(Fact(fact_text, anchor, "graph", key, branch if says_name else ""))
    if retriever is not None and retrieved > 0:
        hits = retriever.search(text, k=retrieved, kind="facts", entity_ids=list(first_mention), within=within)
        for hit in hits:
            if hit.triple and tuple(hit.triple) in seen:
                continue
            anchor = next((first_mention[e] for e in hit.entity_ids if e in first_mention), -1)
            facts.append(Fact(hit.text, anchor, "faiss", tuple(hit.triple) if hit.triple else None))
    return KGContext(text, mentions, tuple(facts if max_facts is None else facts[:max_facts]))


def with_read_facts(ctx: KGContext, query: str, retriever, retrieved: int,
                    entity_facts: EntityFacts | None = None) -> KGContext:
    """``ctx`` plus the ``retrieved`` FAISS facts most like ``query`` among those read in ``ctx.text`` (a
    provenance sentence of theirs is in it), each anchored to the sentence it was read in: a mention spanning
    that sentence, first among the mentions, so the fact follows the sentence and only its tokens see it. When
    one end of the fact is an entity named by the sentence itself (a finding), the mention links that entity
    and the fact reads as a branch without it ("no evidence of an effect is reported in" after the sentence);
    otherwise the whole fact follows the sentence (always, without ``entity_facts`` to name the ends). They
    come after ``ctx``'s own facts."""
    text = ctx.text
    hits = retriever.search(query, k=retrieved, kind="facts", entity_ids=[], within=text)
    seen = {f.triple for f in ctx.facts if f.triple}
    added: list[tuple[Mention, Fact]] = []
    for hit in hits:
        key = tuple(hit.triple) if hit.triple else None
        read = next((p.sentence for p in hit.provenance if p.sentence and p.sentence in text), "")
        if not read or (key and key in seen):
            continue
        start, named, branch = text.find(read), None, ""
        if key and entity_facts is not None:
            head, relation, tail = key
            verb, sentence = entity_facts.schema.verb(relation), normalise(read)
            if normalise(entity_facts.name(tail)) == sentence:
                named, branch = tail, f"{entity_facts.name(head)} {verb}"
            elif normalise(entity_facts.name(head)) == sentence:
                named, branch = head, f"{verb} {entity_facts.name(tail)}"
        added.append((Mention(start, start + len(read), read, "Sentence", named),
                      Fact(hit.text, len(added), "faiss", key, branch)))
    if not added:
        return ctx
    shift = len(added)
    facts = [Fact(f.text, f.anchor + shift if f.anchor >= 0 else -1, f.source, f.triple, f.branch) for f in ctx.facts]
    return KGContext(text, tuple(m for m, _ in added) + ctx.mentions, tuple(facts) + tuple(f for _, f in added))


def _rank(triples: Sequence, embeddings) -> list:
    if embeddings is None:
        return sorted(triples, key=lambda t: (-t.confidence, t.key))
    scores = _scores(triples, embeddings)
    return [t for _, t in sorted(zip(scores, triples), key=lambda p: (-p[0], p[1].key))]


def _scores(triples: Sequence, embeddings) -> list[float]:
    """``embeddings.score`` of each triple (-inf without one); a ``KGEmbeddings`` scores them in one call
    (the same numbers: rows are scored independently)."""
    from kg.embeddings import KGEmbeddings

    if not isinstance(embeddings, KGEmbeddings) or len(triples) < 2:
        out = []
        for t in triples:
            sc = embeddings.score(t.head_id, t.relation, t.tail_id)
            out.append(float("-inf") if sc is None else sc)
        return out
    import numpy as np

    from kg.embeddings import scoring

    rows, rels = embeddings._rows, embeddings._rel_rows
    parts = [(rows.get(t.head_id), rels.get(t.relation), rows.get(t.tail_id)) for t in triples]
    ok = [k for k, p in enumerate(parts) if None not in p]
    out = [float("-inf")] * len(triples)
    if ok:
        h, r, t = (np.array([parts[k][j] for k in ok]) for j in range(3))
        E, R = embeddings.entity_vectors, embeddings.relation_vectors
        for k, sc in zip(ok, scoring.score_triples(embeddings.model, E[h], R[r], E[t]).tolist()):
            out[k] = sc
    return out
