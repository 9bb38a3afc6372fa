"""A better linker: exact/alias match, abbreviation expansion, then FAISS embedding similarity, else NIL.

Order of evidence for one mention (first that answers wins):
1. the same surface form already linked earlier in this document;
2. exact name/alias match (case-folded; then a looser key without spaces, hyphens and a plural "s");
3. a short form defined in this document ("atrial fibrillation (AF)"): link the long form instead;
4. nearest entity name by cosine similarity of MiniLM embeddings (FAISS), same type, score >= threshold;
5. a short form or defined term whose long form's mention linked earlier in this document, a new entity too
   ("the Company" after "Northwind Therapeutics, Inc. (the “Company”)": ``nlp.linking.long_form_of``);
6. NIL: a new entity (``create_new``) or no id; an undefined generic firm noun ("the Group",
   ``nlp.linking.is_firm_noun``) is dropped instead.
Source-vocabulary ids (MeSH) stay in ``Entity.external_ids``.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from kg.names import normalise
from kg.records import Entity, Mention
from nlp.abbreviations import Abbreviation, definitions, long_forms
from nlp.interfaces import Linked
from kg.names import new_entity_id
from nlp.linking import canonical_name, defines_no_firm, display_name, is_firm_noun, long_form_of
from nlp.name_encoder import NameEncoder

_LOOSE = re.compile(r"[\W_]+", re.UNICODE)


def loose_key(name: str) -> str:
    """"Non-steroidal anti-inflammatory drugs" and "nonsteroidal antiinflammatory drug" share a key."""
    key = _LOOSE.sub("", normalise(name))
    return key[:-1] if len(key) > 4 and key.endswith("s") else key


@dataclass(frozen=True)
class Candidate:
    """The linker's best answer for one mention: ``entity_id`` is None for NIL."""

    entity_id: str | None
    score: float
    method: str  # "document" | "exact" | "loose" | "abbreviation" | "embedding" | "nil"


class EntityLinker:
    """Implements ``nlp.interfaces.Linker`` over a fixed set of entities (add more with :meth:`add`)."""

    def __init__(self, entities: Iterable[Entity] = (), encoder: NameEncoder | None = None,
                 threshold: float = 0.8, create_new: bool = True, use_embeddings: bool = True) -> None:
        self.threshold = threshold
        self.create_new = create_new
        self.use_embeddings = use_embeddings
        self._encoder = encoder
        self._entities: dict[str, Entity] = {}
        self._exact: dict[str, set[str]] = defaultdict(set)
        self._loose: dict[str, set[str]] = defaultdict(set)
        self._rows: list[tuple[str, str]] = []  # (name, entity id) per FAISS row
        self._index = None
        self._indexed = 0
        self._row_vecs = None  # numpy (indexed rows, dim): to bring cached answers up to date cheaply
        self._vecs: dict[str, object] = {}  # name -> unit vector, so no name is embedded twice
        # (surface, label) -> (best (entity id, score) or None, rows indexed when it was computed, vector)
        self._nearest_cache: dict[tuple[str, str], tuple[tuple[str, float] | None, int, object]] = {}
        self._defined: dict[str, dict[str, Abbreviation]] = {}  # text -> its definitions, from the last prefetch_docs
        self.add(entities)

    @classmethod
    def from_store(cls, store, **options) -> "EntityLinker":
        """A linker over every entity of a GraphStore."""
        return cls(store.entities(), **options)

    def add(self, entities: Iterable[Entity]) -> None:
        """Make more entities linkable (the FAISS index grows on the next embedding lookup)."""
        for e in entities:
            self._entities[e.id] = e
            for name in {e.name, *e.aliases}:
                if not name.strip():
                    continue
                self._exact[normalise(name)].add(e.id)
                self._loose[loose_key(name)].add(e.id)
                self._rows.append((name, e.id))

    def entity(self, entity_id: str) -> Entity | None:
        return self._entities.get(entity_id)

    def link(self, text: str, mentions: Sequence[Mention]) -> Linked:
        fetched = text in self._defined
        defined = self._defined.pop(text) if fetched else definitions(text)
        abbrevs = long_forms(defined)
        if not fetched:  # not prefetched with its batch (prefetch_docs): one embedding batch for this text
            self.prefetch([(m.text, m.label) for m in mentions if not m.entity_id], abbrevs)
        seen: dict[tuple[str, str], Candidate] = {}
        created: dict[str, Entity] = {}
        out = []
        for m in mentions:
            if m.entity_id:
                out.append(m)
                continue
            cand = self.candidate(m.text, m.label, abbrevs, seen)
            if cand.entity_id is None:
                cand = self._defined_term(m, defined, out) or cand
            if cand.entity_id is None and is_firm_noun(m):  # "the Group" undefined: no entity 'Group'
                continue
            if cand.method in ("nil", "abbreviation") and defines_no_firm(m, defined):
                continue  # "insulin-like growth factor (IGF)" tagged an organisation: no entity 'IGF'
            entity_id = cand.entity_id
            if entity_id is None and self.create_new:
                name = canonical_name(m.text)
                entity_id = new_entity_id(name, m.label)
                if entity_id not in self._entities and entity_id not in created:
                    shown = display_name(name, m, text)
                    created[entity_id] = Entity(entity_id, shown, m.label, tuple(sorted({m.text} - {name, shown})))
                cand = Candidate(entity_id, 1.0, "nil")
            seen[(normalise(m.text), m.label)] = cand
            out.append(Mention(m.start, m.end, m.text, m.label, entity_id, round(m.score * cand.score, 4)))
        self.add(created.values())
        return Linked(tuple(out), tuple(created.values()))

    @staticmethod
    def _defined_term(m: Mention, defined: dict[str, Abbreviation], linked: Sequence[Mention]) -> Candidate | None:
        """The entity of the linked mention of the long form of a short form the text defines
        (``nlp.linking.long_form_of``), when it has ``m``'s type (this linker links within a type); else None."""
        long = long_form_of(m, defined, linked)
        return Candidate(long.entity_id, 0.95, "abbreviation") if long and long.label == m.label else None

    def _rule_hit(self, surface: str, label: str) -> bool:
        return bool(self._lookup(self._exact.get(normalise(surface), ()), label)
                    or self._lookup(self._loose.get(loose_key(surface), ()), label))

    def prefetch_docs(self, docs: Sequence[tuple[str, Sequence[Mention]]]) -> None:
        """:meth:`prefetch` for several documents' mentions in one embedding batch (the Extractor calls it once
        per batch of documents). Only fills the cache: the same answers as linking one by one, up to float
        rounding of a padded batch's embeddings (7th digit of a cosine)."""
        if not (self.use_embeddings and self._rows):
            return
        need = []
        self._defined = {text: definitions(text) for text, _ in docs}  # link() takes them, not again
        for text, mentions in docs:
            need += self._needing_embeddings([(m.text, m.label) for m in mentions if not m.entity_id],
                                             long_forms(self._defined[text]))
        self._fetch(list(dict.fromkeys(need)))

    def _needing_embeddings(self, items, abbrevs) -> list[tuple[str, str]]:
        need = []
        for surface, label in items:
            surface = abbrevs.get(surface.strip(), surface)
            if (surface, label) not in self._nearest_cache and not self._rule_hit(surface, label):
                need.append((surface, label))
        return need

    def prefetch(self, items: Sequence[tuple[str, str]], abbrevs: dict[str, str] | None = None) -> None:
        """Embed, in one batch, every surface the exact rules cannot answer (results are cached)."""
        if not (self.use_embeddings and self._rows):
            return
        self._fetch(list(dict.fromkeys(self._needing_embeddings(items, abbrevs or {}))))

    def _fetch(self, need: list[tuple[str, str]]) -> None:
        if need:
            self._ensure_index()
            vecs = self._embed([s for s, _ in need])
            k = min(10, len(self._rows))
            scores, rows = self._index.search(vecs, k)
            for (surface, label), sc, rw, vec in zip(need, scores, rows, vecs):
                self._nearest_cache[(surface, label)] = (self._best_of(sc, rw, label), self._indexed, vec)

    def candidate(self, surface: str, label: str, abbrevs: dict[str, str] | None = None,
                  seen: dict[tuple[str, str], Candidate] | None = None) -> Candidate:
        """The best entity for a surface form of type ``label`` (``None`` id when NIL)."""
        key = (normalise(surface), label)
        if seen and key in seen and seen[key].entity_id:
            return Candidate(seen[key].entity_id, seen[key].score, "document")
        hit = self._lookup(self._exact.get(normalise(surface), ()), label)
        if hit:
            return Candidate(hit, 1.0, "exact")
        hit = self._lookup(self._loose.get(loose_key(surface), ()), label)
        if hit:
            return Candidate(hit, 0.95, "loose")
        long = (abbrevs or {}).get(surface.strip())
        if long:
            inner = self.candidate(long, label, None, None)
            if inner.entity_id:
                return Candidate(inner.entity_id, round(inner.score * 0.95, 4), "abbreviation")
        if self.use_embeddings and self._rows:
            best = self.nearest(surface, label, k=10)
            if best and best[1] >= self.threshold:
                return Candidate(best[0], round(best[1], 4), "embedding")
        return Candidate(None, 0.0, "nil")

    def _lookup(self, ids: Iterable[str], label: str) -> str | None:
        same = sorted(i for i in ids if self._entities[i].type == label)
        return same[0] if same else None

    def nearest(self, surface: str, label: str, k: int = 10) -> tuple[str, float] | None:
        """The most similar entity name of the same type by embedding, with its cosine score.

        Answers are cached; when names were added since, only the new rows are compared (exact, cheap).
        """
        key = (surface, label)
        self._ensure_index()
        cached = self._nearest_cache.get(key)
        if cached is None:
            vec = self._embed([surface])
            scores, rows = self._index.search(vec, min(k, len(self._rows)))
            best = self._best_of(scores[0], rows[0], label)
            self._nearest_cache[key] = (best, self._indexed, vec[0])
            return best
        best, seen, vec = cached
        if seen < self._indexed:
            scores = self._row_vecs[seen:self._indexed] @ vec
            for row in scores.argsort()[::-1]:
                entity_id = self._rows[seen + int(row)][1]
                if self._entities[entity_id].type == label:
                    if best is None or float(scores[row]) > best[1]:
                        best = (entity_id, float(scores[row]))
                    break
            self._nearest_cache[key] = (best, self._indexed, vec)
        return best

    def _embed(self, names: Sequence[str]):
        """Unit vectors for ``names``, embedding only those never seen before."""
        import numpy as np

        missing = list(dict.fromkeys(n for n in names if n not in self._vecs))
        if missing:
            for name, vec in zip(missing, self._encoder.encode(missing)):
                self._vecs[name] = vec
        return np.stack([self._vecs[n] for n in names]).astype("float32")

    def _best_of(self, scores, rows, label: str) -> tuple[str, float] | None:
        for score, row in zip(scores, rows):
            if row < 0:
                continue
            entity_id = self._rows[row][1]
            if self._entities[entity_id].type == label:
                return entity_id, float(score)
        return None

    def warm(self, surfaces: Sequence[str]) -> None:
        """Build the FAISS index now (e.g. before timing)."""
        if self.use_embeddings and self._rows:
            self._ensure_index()

    def _ensure_index(self) -> None:
        """Index the rows added since last time."""
        import faiss

        if self._encoder is None:
            self._encoder = NameEncoder()
        if self._index is None:
            self._index = faiss.IndexFlatIP(self._encoder.dim)
            self._indexed = 0
        if self._indexed < len(self._rows):
            import numpy as np

            vecs = self._embed([n for n, _ in self._rows[self._indexed:]])
            self._index.add(vecs)
            self._row_vecs = vecs if self._row_vecs is None else np.concatenate([self._row_vecs, vecs])
            self._indexed = len(self._rows)
            # cached answers stay: nearest() compares them with the new rows only when asked again
