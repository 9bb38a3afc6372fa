"""Retrieval over the FAISS indexes with hybrid ranking: vector similarity + graph proximity.

``score = (1 - w) * cosine + w * proximity``, where proximity says how close an item is in the
graph to the entities linked in the query (1 = is/touches one, 0.5 = a neighbour, 0 = elsewhere).
With no linked entity the ranking is the plain vector ranking.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from kg.index import KINDS, IndexItem, SyncedIndex
from kg.index.items import store_fingerprint
from kg.names import normalise
from kg.records import Provenance
from kg.schema import Schema
from kg.store import GraphStore
from kg.workspace import Workspace
from nlp.embedder import Embedder
from nlp.errors import NLPError
from nlp.index_sync import (Progress, build_indexes, existing_kinds, index_root, indexes_exist, sync_opened,
                             update_indexes)

__all__ = ["Hit", "Retriever", "build_indexes", "existing_kinds", "indexes_exist", "update_indexes"]

_TOKEN = re.compile(r"\w(?:[\w'.\-/+]*\w)?")
_STOP = frozenset(
    "a an and are as at be by can did do does for from has have how in is it its of on or that the this to "
    "was were what when where which who whom why will with".split()
)
MAX_NGRAM = 6
QUERY_CACHE = 10_000  # query vectors a Retriever keeps (prefetch)
DRIFT = ("update", "error", "memory")  # what Retriever.open does with an index out of step with the graph
# Texts a reading command embeds to bring indexes up to date in memory, at most: ~95 texts/s on the 2-core development
# CPU (the demo graph's three indexes from nothing, 404 texts: `kgnlp retrieve` 7.8 s instead of 6.3 s), so ~20 s;
# past this `kgnlp index` is the way (it saves the work).
MEMORY_BUILD = 2_000


@dataclass(frozen=True)
class Hit:
    """One retrieved item. ``score`` is the hybrid score used for ranking."""

    text: str
    score: float
    kind: str
    similarity: float
    proximity: float
    id: int
    entity_ids: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    triple: tuple[str, str, str] | None = None
    label: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.text, "score": round(self.score, 6), "kind": self.kind,
            "similarity": round(self.similarity, 6), "proximity": self.proximity, "id": self.id,
            "entity_ids": list(self.entity_ids), "doc_ids": list(self.doc_ids),
            "provenance": [{"doc": p.doc_id, "start": p.start, "end": p.end, "sentence": p.sentence}
                           for p in self.provenance],
            "triple": list(self.triple) if self.triple else None, "label": self.label,
        }


class Retriever:
    """``search(text, k, kind)`` over a workspace's indexes. Open with :meth:`open`."""

    def __init__(self, root: Path, store: GraphStore, embedder: Embedder, indexes: dict[str, SyncedIndex],
                 graph_weight: float = 0.3) -> None:
        self.root, self.store, self.embedder, self.indexes = root, store, embedder, indexes
        self.graph_weight = graph_weight
        self._queries: dict[str, object] = {}  # query text -> its vector (prefetch)
        self._scopes: dict[tuple[str, str], dict[int, IndexItem]] = {}  # (kind, text) -> items read in it (prefetch)

    @classmethod
    def open(
        cls,
        ws: Workspace | str | Path,
        store: GraphStore,
        embedder: Embedder | None = None,
        *,
        schema: Schema | None = None,
        on_drift: str = "update",
        notify: Callable[[str], None] | None = None,
        progress: Progress | None = None,
        graph_weight: float = 0.3,
        kinds: Sequence[str] = KINDS,
    ) -> "Retriever":
        """Open the indexes, checking them against the store first.

        An index missing, inconsistent with itself, or out of step with the store is brought in step and saved
        (``on_drift="update"``, with a message through ``notify``), refused (``on_drift="error"``), or brought in
        step in memory for this retriever only, nothing in the workspace written (``on_drift="memory"``, what
        reading commands use: a message through ``notify`` names `kgnlp index`, which saves them; more than
        ``MEMORY_BUILD`` texts to embed is refused with that advice, before any is embedded).
        ``kinds``: only these indexes are checked and opened (e.g. a fused model reads only ``facts``; the others
        are then neither built nor touched, and searching them is an error).
        """
        if on_drift not in DRIFT:
            raise NLPError(f"on_drift must be one of {', '.join(DRIFT)}, got '{on_drift}'.")
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise NLPError(f"Unknown index kind '{unknown[0]}'. Choose one of: {', '.join(KINDS)}.")
        embedder = embedder or Embedder()
        root = index_root(ws)
        saving = on_drift == "update"  # opened writable at once: a stale index is synced and saved where it is open
        indexes = {kind: SyncedIndex.open(root / kind, kind, read_only=not saving) for kind in kinds}
        try:
            fingerprint = store_fingerprint(store)
            stale = _stale(indexes, embedder.name, fingerprint)
            if stale:
                detail = "; ".join(f"{k}: {why}" for k, why in stale.items())
                if on_drift == "error":
                    raise NLPError(f"Indexes out of step with the graph ({detail}). Run `kgnlp index`.")
                if saving and notify:
                    notify(f"Updating indexes ({detail}).")
                sync_opened({k: indexes[k] for k in stale}, store, progress, embedder=embedder, schema=schema,
                            most=None if saving else MEMORY_BUILD, fingerprint=fingerprint)
                if not saving and notify:
                    notify(f"Indexes out of step with the graph ({detail}): brought up to date in memory for "
                           f"this command only; `kgnlp index -w {root.parent}` saves them.")
        except BaseException:
            for idx in indexes.values():
                idx.close()
            raise
        return cls(root, store, embedder, indexes, graph_weight)

    def close(self) -> None:
        for idx in self.indexes.values():
            idx.close()

    def __enter__(self) -> "Retriever":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- linking ---------------------------------------------------------------------------
    def link(self, text: str) -> list[str]:
        """Entity ids named in ``text``: longest n-grams first, exact (normalised) name or alias matches."""
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        spans: list[tuple[int, int, str]] = []
        for n in range(min(MAX_NGRAM, len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                norm = normalise(text[tokens[i][0] : tokens[i + n - 1][1]])
                if n == 1 and (norm in _STOP or len(norm) < 2):
                    continue
                spans.append((i, i + n, norm))
        found = self._lookup({s[2] for s in spans})
        covered: set[int] = set()
        chosen: list[tuple[int, list[str]]] = []
        for i, j, norm in spans:  # longest first: "type 2 diabetes" wins over "diabetes"
            if norm in found and not covered & set(range(i, j)):
                covered |= set(range(i, j))
                chosen.append((i, found[norm]))
        linked: list[str] = []
        for _, ids in sorted(chosen, key=lambda c: c[0]):  # in the order the text names them
            linked.extend(e for e in ids if e not in linked)
        return linked

    def _lookup(self, norms: set[str]) -> dict[str, list[str]]:
        names = self.indexes.get("entities")
        if names is not None and len(names):
            return names.entities_named(norms)
        out: dict[str, list[str]] = {}
        for norm in norms:
            hits = [e.id for e in self.store.find_entities(norm, limit=5)
                    if norm in {normalise(n) for n in (e.name, *e.aliases)}]
            if hits:
                out[norm] = hits
        return out

    # ---- search ----------------------------------------------------------------------------
    def search(self, text: str, k: int = 10, kind: str = "facts",
               entity_ids: Sequence[str] | None = None, within: str | None = None) -> list[Hit]:
        """The ``k`` best items of ``kind`` (facts, chunks or entities) for ``text``, best first.

        ``entity_ids`` replaces query linking when the caller already knows the entities. ``within``: only
        items read in that text (a provenance sentence of theirs is in it, word for word), all of them ranked;
        when there are ``k`` or fewer, there is nothing to choose: all are returned in the order they are read
        in ``within``, and the query is not embedded (their ``similarity`` and ``score`` are NaN).
        """
        if kind not in KINDS:
            raise NLPError(f"Unknown kind '{kind}'. Choose one of: {', '.join(KINDS)}.")
        if k < 1:
            raise NLPError(f"k must be at least 1, got {k}.")
        if kind not in self.indexes:
            raise NLPError(f"This retriever was opened without the {kind} index (Retriever.open(kinds=...)).")
        index = self.indexes[kind]
        if not len(index):
            return []
        candidates = None if within is None else self._scopes.pop((kind, within), None)
        if within is not None and candidates is None:
            candidates = index.items_read_in(within)
        if candidates == {}:
            return []
        linked = list(entity_ids) if entity_ids is not None else self.link(text)
        if candidates is not None and len(candidates) <= k:
            near = self._neighbours(linked) if linked and self.graph_weight > 0 else set()
            return _in_reading_order(candidates, within, linked, near)
        return self.rank(self.query_vector(text), k, kind, linked, candidates)

    def prefetch(self, texts: Iterable[str], batch: int = 64, within: Sequence[str | None] | None = None,
                 k: int = 0, kind: str = "facts") -> None:
        """Embed the queries ``search`` will be asked for, in batches (faster than one at a time on a
        CPU); ``search`` then reuses them. Keeps the last ``QUERY_CACHE`` queries. ``within`` (one text or
        None per query) and ``k``: the searches will be ``search(text, k, kind, within=...)``, so a query
        whose scope holds ``k`` items or fewer is not embedded (that search ranks nothing)."""
        texts = list(texts)
        if within is not None:
            if len(within) != len(texts):
                raise NLPError(f"prefetch: {len(texts)} queries but {len(within)} scopes.")
            texts = [t for t, w in zip(texts, within) if w is None or len(self._scope(kind, w)) > k]
        todo = list(dict.fromkeys(t for t in texts if t not in self._queries))
        for start in range(0, len(todo), batch):
            part = todo[start : start + batch]
            for text, vec in zip(part, self.embedder.encode(part)):
                self._remember(text, vec)

    def clear(self) -> None:
        """Forget the prefetched and remembered query vectors (and scopes)."""
        self._queries.clear()
        self._scopes.clear()

    def _scope(self, kind: str, text: str) -> dict[int, IndexItem]:
        """The items read in ``text``, kept for the ``search`` that follows a prefetch (which takes them)."""
        got = self._scopes.get((kind, text))
        return got if got is not None else _keep(self._scopes, (kind, text), self.indexes[kind].items_read_in(text))

    @property
    def queries_held(self) -> int:
        """How many query vectors are held (embedded since the last :meth:`clear`, up to ``QUERY_CACHE``)."""
        return len(self._queries)

    def query_vector(self, text: str):
        vec = self._queries.get(text)
        if vec is None:
            vec = self._remember(text, self.embedder.encode([text])[0])
        return vec

    def _remember(self, text: str, vec):
        return _keep(self._queries, text, vec)

    def rank(self, query_vector, k: int, kind: str, linked: list[str],
             candidates: dict[int, IndexItem] | None = None) -> list[Hit]:
        """Hybrid ranking for an already embedded query (what benchmarks time); ``candidates``: rank only
        these items (else the nearest in the index, and the items of the linked entities)."""
        index = self.indexes[kind]
        graphed = bool(linked) and self.graph_weight > 0
        near = self._neighbours(linked) if graphed else set()
        if candidates is not None:
            sims, items = dict(index.similarities(query_vector, list(candidates))), candidates
        else:
            sims = dict(index.search(query_vector, max(4 * k, 50)))
            if graphed:
                extra = [i for i in index.ids_for_entities(linked, limit=500) if i not in sims]
                sims.update(index.similarities(query_vector, extra))
            items = index.items(list(sims))
        scored = []
        for item_id, sim in sims.items():
            item = items.get(item_id)
            if item is None:
                continue
            prox = _proximity(item, set(linked), near) if linked else 0.0
            w = self.graph_weight if linked else 0.0
            scored.append(((1 - w) * sim + w * prox, sim, prox, item))
        scored.sort(key=lambda s: (-s[0], s[3].id))
        return [_hit(item, score, sim, prox) for score, sim, prox, item in scored[:k]]

    def _neighbours(self, linked: Iterable[str], cap: int = 2000) -> set[str]:
        near: set[str] = set()
        for ent in linked:
            for t in self.store.neighbours(ent, hops=1)[:cap]:
                near.update((t.head_id, t.tail_id))
        return near


def _stale(indexes: dict[str, SyncedIndex], embedder: str, fingerprint: str) -> dict[str, str]:
    """kind -> why that index cannot serve as it is (missing, inconsistent, another embedder, the graph changed)."""
    stale: dict[str, str] = {}
    for kind, idx in indexes.items():
        problems = idx.problems(embedder)
        if problems:
            stale[kind] = "; ".join(problems)
        elif not idx.in_step_with(fingerprint):
            stale[kind] = "the graph changed since the last index update"
    return stale


def _proximity(item: IndexItem, linked: set[str], near: set[str]) -> float:
    closeness = [1.0 if e in linked else 0.5 if e in near else 0.0 for e in item.entity_ids]
    if not closeness:
        return 0.0
    # A fact is as close as the mean of its two ends (joining two question entities scores 1);
    # a chunk or a name is as close as its closest entity.
    return sum(closeness) / len(closeness) if item.kind == "facts" else max(closeness)


def _keep(cache: dict, key, value):
    """``cache[key] = value``, the oldest entry dropped first when it holds ``QUERY_CACHE``."""
    if len(cache) >= QUERY_CACHE:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value


def _in_reading_order(items: dict[int, IndexItem], text: str, linked: list[str], near: set[str]) -> list[Hit]:
    """Every item, unranked: in the order their first provenance sentence comes in ``text`` (similarity and
    score NaN: no query was embedded; proximity as :meth:`Retriever.rank` gives it)."""
    def read_at(item: IndexItem) -> int:
        return min((text.find(p.sentence) for p in item.provenance if p.sentence and p.sentence in text),
                   default=len(text))

    nan, ends = float("nan"), set(linked)
    return [_hit(item, nan, nan, _proximity(item, ends, near) if linked else 0.0)
            for item in sorted(items.values(), key=lambda it: (read_at(it), it.id))]


def _hit(item: IndexItem, score: float, sim: float, prox: float) -> Hit:
    return Hit(item.text, float(score), item.kind, float(sim), float(prox), item.id, item.entity_ids,
               item.doc_ids, item.provenance, item.triple, item.label)


class NameSimilarity:
    """``(name, type) -> (entity id, cosine) | None`` over the workspace's entity-name index: the most similar
    indexed name of that type. Answers are cached per (name, type); :meth:`prefetch` answers many with one
    embedding batch. Build it with :func:`name_similarity`; :meth:`close` the index when done."""

    def __init__(self, index: SyncedIndex, embedder: Embedder, k: int = 10) -> None:
        self._index, self._embedder, self._k = index, embedder, k
        self._cache: dict[tuple[str, str], tuple[str, float] | None] = {}

    def __call__(self, name: str, label: str) -> tuple[str, float] | None:
        key = (name, label)
        if key not in self._cache:
            self._answer(key, self._embedder.encode([name])[0])
        return self._cache[key]

    def prefetch(self, pairs) -> None:
        """Answer many (name, type) pairs with one embedding batch (the extractor's batch of documents)."""
        todo = list(dict.fromkeys(p for p in pairs if p not in self._cache))
        if todo:
            for key, vec in zip(todo, self._embedder.encode([n for n, _ in todo])):
                self._answer(key, vec)

    def close(self) -> None:
        self._index.close()

    def _answer(self, key: tuple[str, str], vec) -> None:
        hits = self._index.search(vec, self._k)
        items = self._index.items([i for i, _ in hits])
        self._cache[key] = next(((item.entity_ids[0], float(sim)) for i, sim in hits
                                 if (item := items.get(i)) is not None and item.label == key[1] and item.entity_ids),
                                None)


def name_similarity(ws: Workspace | str | Path, embedder: Embedder | None = None,
                    k: int = 10) -> NameSimilarity | None:
    """A :class:`NameSimilarity` over the workspace's entity-name index (built by `kgnlp index`); None when
    the workspace has no usable entity index (then linking stays with exact/alias rules)."""
    root = index_root(ws)
    if not (root / "entities").exists():
        return None
    embedder = embedder or Embedder()
    index = SyncedIndex.open(root / "entities", "entities", read_only=True)
    if not len(index) or index.problems(embedder.name):
        index.close()
        return None
    return NameSimilarity(index, embedder, k)
