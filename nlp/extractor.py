"""The extractor: documents in, ``Extraction`` records out (mentions linked, facts with provenance).

    spaCy (sentences, stock NER) + graph names [+ trained NER layers] -> merge -> link -> relations
"""
from __future__ import annotations

import bisect
import os
import re
import signal
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from kg.names import without_suffixes
from kg.records import Document, Entity, Extraction, Mention
from kg.schema import Schema
from kg.store import GraphStore
from nlp.coreference import resolve_references
from nlp.defined_terms import defined_terms, with_terms
from nlp.drug_names import add_drug_names
from nlp.gazetteer import Gazetteer, overlaps
from nlp.interfaces import Linker, NERLayer, RelationLayer, Sentence
from nlp.linking import StoreLinker, canonical_name
from nlp.loaders import continues
from nlp.models import sentence_pipeline, spacy_pipeline
from nlp.paragraphs import paragraph_bounds
from nlp.relations import PatternRelations
from nlp.ner.vote import vote_mentions, vote_weight
from nlp.spacy_ner import SpacyNER


@dataclass(frozen=True)
class Analysis:
    """NER and linking for one text, without relations: what ``kgnlp ner`` shows."""

    text: str
    sentences: tuple[Sentence, ...]
    mentions: tuple[Mention, ...]
    new_entities: tuple[Entity, ...]


class Extractor:
    """Runs every layer over documents. Build it with :meth:`for_store`."""

    def __init__(self, nlp, gazetteer: Gazetteer, linker: Linker, relation_layers: Sequence[RelationLayer],
                 extra_ner: Sequence[NERLayer] = (), use_spacy_ner: bool = True,
                 types: dict[str, str] | None = None, doc_layers: Sequence = (), vote: float = 0,
                 drug_names: bool = True) -> None:
        self._nlp = nlp
        self.gazetteer = gazetteer
        self._spacy = SpacyNER(nlp) if use_spacy_ner else None
        self._extra = list(extra_ner)
        self._doc_layers = list(doc_layers)  # layers that read the base pipeline's own Doc (no second pass)
        self._vote = vote  # > 0: graph names and trained layers vote (a span needs this many votes), else priorities
        self._drug_names = drug_names  # nlp.drug_names: the last recogniser, where no layer took the word
        self._weights = [1.0] * (2 if self._spacy else 1) + [vote_weight(layer) for layer in (*self._doc_layers,
                                                                                               *self._extra)]
        self._linker = linker
        self._relations = list(relation_layers)
        self._types = types if types is not None else {}
        self._previous: Document | None = None  # the last document extracted
        self._terms: dict[str, Mention] = {}  # what its file's parts so far defined (nlp.defined_terms)

    @classmethod
    def for_store(cls, store: GraphStore, schema: Schema | None = None,
                  extra_ner: Sequence[NERLayer] = (), use_spacy_ner: bool = True, vote: float = 0,
                  similar=None, drug_names: bool = True) -> "Extractor":
        """An extractor whose gazetteer holds every name in ``store`` and whose linker uses it.

        Without trained layers the stock spaCy pipeline gives sentences (parser) and generic NER. A trained
        NER layer replaces the stock NER: a trained spaCy CNN then *is* the base pipeline (one pass gives
        tokens, rule-based sentences, its entities and the graph-name matches), and other trained layers
        (transformer, fused) run beside a tokenizer-and-sentencizer pipeline. ``vote`` > 0: the graph names and
        the trained layers vote (see ``nlp.ner.vote``) instead of merging by priority. ``similar``: embedding
        similarity over the graph's names for mentions the rules cannot link (``nlp.retrieval.name_similarity``).
        ``drug_names``: words with a drug-name stem that no layer took are Chemical mentions (``nlp.drug_names``).
        """
        extra = list(extra_ner)
        own = next((layer for layer in extra if hasattr(layer, "sentence_pipeline")), None)
        doc_layers: list = []
        if own is not None:
            nlp = own.sentence_pipeline()
            extra.remove(own)
            doc_layers = [own]
            use_spacy_ner = False
        elif extra:
            nlp = sentence_pipeline()
            use_spacy_ner = False
        else:
            nlp = spacy_pipeline()
        gazetteer = Gazetteer(nlp)
        types: dict[str, str] = {}
        rows = []
        for surface, entity_id, kind in store.names():
            rows.append((surface, entity_id, kind))
            types[entity_id] = kind
        gazetteer.add(rows)
        return cls(nlp, gazetteer, StoreLinker(store, similar), [PatternRelations(schema or Schema())],
                   extra, use_spacy_ner, types, doc_layers, vote, drug_names)

    def analyse(self, texts: Sequence[str]) -> list[Analysis]:
        """Sentences and linked mentions for each text."""
        return self._analyse(texts, list(self._nlp.pipe(texts, batch_size=32)))

    def _analyse(self, texts: Sequence[str], docs: Sequence, follows: Sequence[bool] = ()) -> list[Analysis]:
        """``follows[i]``: text i is the next part of the file the text before it (in this call or the last) is a part
        of, and takes the terms its parts defined; with ``follows`` given, each text's defined terms are kept for the
        next."""
        extra = [layer.predict(texts) for layer in self._extra]
        merged = []
        for i, doc in enumerate(docs):
            layers = [(self.gazetteer.priority, self.gazetteer.from_doc(doc, texts[i]))]
            if self._spacy:
                layers.append((self._spacy.priority, self._spacy.from_doc(doc)))
            layers += [(layer.priority, layer.from_doc(doc)) for layer in self._doc_layers]
            layers += [(layer.priority, preds[i]) for layer, preds in zip(self._extra, extra)]
            if self._vote:
                mentions = vote_mentions([ms for _, ms in layers], self._vote, self._weights)
            else:
                mentions = merge_mentions(layers)
            if self._drug_names:
                mentions = add_drug_names(texts[i], mentions, (m for _, ms in layers for m in ms))
            merged.append(mentions)
        prefetch = getattr(self._linker, "prefetch_docs", None)
        if prefetch is not None:  # one embedding batch for the whole batch of documents (same answers)
            prefetch(list(zip(texts, merged)))
        out = []
        for i, doc in enumerate(docs):
            text = texts[i]  # Doc.text rebuilds the string from its tokens on every access
            carried = self._terms if i < len(follows) and follows[i] else {}
            linked = self._linker.link(text, with_terms(merged[i], carried, canonical_name))
            if follows:
                self._terms = {**defined_terms(text, linked.mentions), **carried}  # the file's first definition wins
            sentences = mend_sentences(text, sentence_bounds(doc), merged[i])
            out.append(Analysis(text, sentences, linked.mentions, linked.new_entities))
        return out

    def extract(self, documents: Iterable[Document], batch_size: int = 16,
                processes: int = 1) -> Iterator[Extraction]:
        """One ``Extraction`` per document, in order. New entities join the gazetteer as they appear.

        ``processes`` > 1 runs the base spaCy pipeline (tokens, sentences, CNN NER) in that many worker
        processes over the whole stream; linking, relations and everything that grows the graph stay here,
        in document order, so the result is the same as with one process.
        """
        pending: deque[Document] = deque()

        def texts() -> Iterator[str]:
            for doc in documents:
                pending.append(doc)
                yield doc.text

        kwargs = {"n_process": processes} if processes > 1 else {}
        if processes > 1:
            _load_msgpack_plugins_once()
            _workers_die_with_parent()
        batch: list[Document] = []
        parsed: list = []
        for sdoc in self._nlp.pipe(texts(), batch_size=32, **kwargs):
            batch.append(pending.popleft())
            parsed.append(sdoc)
            if len(batch) >= batch_size:
                yield from self._extract_batch(batch, parsed)
                batch, parsed = [], []
        if batch:
            yield from self._extract_batch(batch, parsed)

    def _extract_batch(self, docs: list[Document], parsed: Sequence) -> Iterator[Extraction]:
        follows = []
        for doc in docs:
            follows.append(continues(self._previous, doc))
            self._previous = doc
        for doc, analysis in zip(docs, self._analyse([d.text for d in docs], parsed, follows)):
            for ent in analysis.new_entities:
                self._types[ent.id] = ent.type
            types = dict(self._types)
            for m in analysis.mentions:
                if m.entity_id and m.entity_id not in types:
                    types[m.entity_id] = m.label
            references = resolve_references(doc.text, analysis.sentences, analysis.mentions)
            with_refs = sorted((*analysis.mentions, *references), key=lambda m: m.start)
            triples = []
            for layer in self._relations:
                triples += layer.extract(doc.id, doc.text, analysis.sentences, with_refs, types)
            self.gazetteer.add((n, e.id, e.type) for e in analysis.new_entities for n in (e.name, *e.aliases))
            yield Extraction(doc, analysis.mentions, tuple(triples), analysis.new_entities)


_AT_FORK = False


def _workers_die_with_parent() -> None:
    """spaCy's worker processes block on a queue read; if this process is killed (kill -9, OOM) they would
    wait forever. On Linux, every process forked from here from now on asks the kernel for SIGKILL when its
    parent dies (prctl PR_SET_PDEATHSIG). Elsewhere nothing changes."""
    global _AT_FORK
    if _AT_FORK or not hasattr(os, "register_at_fork"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return
    forking = [0]  # pid of the process that is forking, whoever it is

    def before() -> None:
        forking[0] = os.getpid()

    def in_child() -> None:
        prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        # Ctrl-C reaches the whole process group: a worker leaves quietly (no traceback of its own) and the
        # parent, which stops the run, says so once.
        signal.signal(signal.SIGINT, lambda *_: os._exit(0))
        if os.getppid() != forking[0]:  # the parent died before the request took effect
            os._exit(1)

    os.register_at_fork(before=before, after_in_child=in_child)
    _AT_FORK = True


def _load_msgpack_plugins_once() -> None:
    """srsly re-scans every installed package's entry points on each msgpack (un)pack of a Doc (~1 ms each,
    a fifth of the main process's time with worker processes). Register the plugins once, then stop scanning;
    forked workers inherit the setting. Behaviour is unchanged: the same encoders and decoders run."""
    import catalogue
    from srsly import msgpack

    for registry in (msgpack.msgpack_encoders, msgpack.msgpack_decoders):
        if getattr(registry, "entry_points", False):
            for name, func in registry.get_entry_points().items():
                if not registry.has(name):
                    registry.register(name, func=func)
            registry.entry_points = False
        if not getattr(registry, "_kgnlp_cached", False):  # get_all() also walks the whole global registry
            registry.get_all = _cached_get_all(registry.get_all, catalogue.REGISTRY)
            registry._kgnlp_cached = True


def _cached_get_all(get_all, global_registry: dict):
    """``get_all`` recomputed only when the global catalogue registry changed size (a new registration)."""
    cache: dict = {}

    def cached():
        size = len(global_registry)
        if cache.get("size") != size:
            cache["value"], cache["size"] = get_all(), size
        return cache["value"]

    return cached


def merge_mentions(layers: list[tuple[int, list[Mention]]]) -> list[Mention]:
    """Non-overlapping mentions: higher priority first, then longer spans; but an organisation's name that begins
    a longer organisation span of a lower layer with more capitalised words is a part of another name
    ("Northwind" in "Northwind Pharmaceuticals AG"), and gives way to it."""
    orgs: dict[int, list[tuple[int, Mention]]] = {}  # by start: a longer name begins where the part does
    for prio, ms in layers:
        for m in ms:
            if m.label == "Organization":
                orgs.setdefault(m.start, []).append((prio, m))
    ranked = sorted(
        ((prio, m) for prio, ms in layers for m in ms
         if not (m.label == "Organization" and any(_extends(m, longer) for p, longer in orgs[m.start] if p < prio))),
        key=lambda pm: (-pm[0], -(pm[1].end - pm[1].start), pm[1].start),
    )
    # taken spans, sorted and disjoint, so one look left of where a span would go finds any overlap: a long
    # document's thousands of mentions stay linear, not quadratic
    spans: list[tuple[int, int]] = []
    taken: list[Mention] = []
    for _, m in ranked:
        if not overlaps(spans, m.start, m.end):
            bisect.insort(spans, (m.start, m.end))
            taken.append(m)
    return sorted(taken, key=lambda m: m.start)



_MORE_NAME = re.compile(r"(?:\s+[A-Z][\w&.-]*)+")


def _extends(name: Mention, span: Mention) -> bool:
    """``span`` starts with ``name`` and goes on with capitalised words other than corporate suffixes."""
    if span.start != name.start or span.end <= name.end:
        return False
    rest = without_suffixes(re.sub(r"['’]s$", "", span.text[name.end - span.start:]))
    return _MORE_NAME.fullmatch(rest) is not None


def sentence_bounds(doc) -> list[tuple[int, int]]:
    """(start, end) character offsets of a Doc's sentences, read from its arrays (no Span objects)."""
    import numpy as np
    from spacy.attrs import IDX, LENGTH, SENT_START

    if len(doc) == 0:
        return []
    if not doc.has_annotation("SENT_START"):
        return [(s.start_char, s.end_char) for s in doc.sents]
    arr = doc.to_array([SENT_START, IDX, LENGTH]).astype(np.int64)
    starts = np.flatnonzero(arr[:, 0] == 1)
    if len(starts) == 0 or starts[0] != 0:
        starts = np.concatenate(([0], starts))
    last = np.concatenate((starts[1:] - 1, [len(doc) - 1]))
    return list(zip(arr[starts, 1].tolist(), (arr[last, 1] + arr[last, 2]).tolist()))


def mend_sentences(text: str, bounds: list[tuple[int, int]], mentions: Sequence[Mention]) -> tuple[Sentence, ...]:
    """Sentences, with any two joined where the parser split inside a mention ("Acme Corp. | Holdings").

    A sentence's span leaves out the whitespace spaCy gives it at its edges (the "\n" that ends a file, the blank
    line after a paragraph): a fact's source sentence is the sentence, not a line of the file. No sentence runs
    over a blank line or on from a markdown heading (see :func:`paragraph_bounds`)."""
    bounds = paragraph_bounds(text, bounds)
    merged: list[list[int]] = []
    spans = sorted((m.start, m.end) for m in mentions)
    i = reach = 0  # the furthest end of the mentions that start before the sentence: one pass, not sentences x mentions
    for start, end in bounds:
        while i < len(spans) and spans[i][0] < start:
            reach, i = max(reach, spans[i][1]), i + 1
        if merged and reach > start:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    out = []
    for a, b in merged:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        out.append(Sentence(a, b, text[a:b]))
    return tuple(out)

