"""From task data to :class:`FusedInput` rows with labels: the knowledge source and the input builder."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Sequence

from fusion.config import ENTITY_VECTORS, FusionConfig
from fusion.context import EntityFacts, KGContext, NameLinker, build_kg_context, with_read_facts
from fusion.inputs import FusedInput, Segment, Specials, assemble, kept_tail, tokenise

IGNORE = -100
_LOOKUP = object()  # segment(): look the context up
_FACT_CACHE = 200_000  # fact texts whose tokens an InputBuilder keeps


@dataclass
class Knowledge:
    """Where contexts come from: a store (+ linker, embeddings, retriever: ``search(text, k, kind, entity_ids,
    within)`` such as ``nlp.retrieval.Retriever``, read only when a context asks for ``retrieved`` facts; an
    optional ``prefetch(texts, within=None, k=0)`` embeds queries in batches, see :meth:`InputBuilder.prefetch`).

    Contexts are cached by text and each entity's facts by entity id (both LRU, ``cache_size`` entries);
    :meth:`window_contexts` links a document once for all its windows. :meth:`clear` forgets everything
    (call it when the store changes).

    ``workspace``: where ``store`` comes from; a model trained with this knowledge records it with the graph's
    identity (``fusion.origin.GraphOrigin``), so that using it with another graph can be told.

    ``max_facts`` caps the facts of a context; None (the default) keeps every linked entity's facts, so the
    model's own ``FusionConfig.max_facts`` picks those whose mention survives truncation: with
    ``truncation_side="left"`` a cap here would spend the facts on the cut-off start of a long text.
    """

    store: object = None
    linker: object = None
    embeddings: object = None
    retriever: object = None
    schema: object = None
    facts_per_entity: int = 2
    max_facts: int | None = None
    cache_size: int = 50_000
    workspace: str = ""  # the folder the store was read from, recorded with a model trained on it (fusion.origin)
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _facts: EntityFacts | None = field(default=None, repr=False)
    # the store's names() when the linker was built from them (here, not given: None when a linker was), until
    # fusion.tasks.prepare records the graph a model trains with from them
    names: list[tuple[str, str, str]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.linker is None and self.store is not None:  # names read once: the linker's, and the record of the
            self.names = list(self.store.names())           # graph a model trains with (fusion.tasks.prepare)
            self.linker = NameLinker.from_rows(self.names)
        if self.store is not None:
            self._facts = EntityFacts(self.store, self.embeddings, self.schema, self.facts_per_entity,
                                      self.cache_size)

    def context(self, text: str, facts: bool = True, retrieved: int = 0, within: str | None = None
                ) -> KGContext | None:
        """Linked mentions and (with ``facts``) the facts found for them; ``facts=False`` skips the fact
        lookup for a model that reads only the linked entities. ``retrieved``: that many facts from the
        retriever as well (an error without one); ``within``: only facts read in that text."""
        if self.linker is None:
            return None
        key = (text, facts, retrieved, within)
        got = self._cache.get(key)
        if got is None:
            got = self._build(text, None, facts, retrieved, within)
        else:
            self._cache.move_to_end(key)
        return got

    def read_in(self, text: str, query: str, retrieved: int, facts: bool = True) -> KGContext | None:
        """``context(text, facts)`` plus (with ``facts``) the ``retrieved`` facts most like ``query`` among those
        read in ``text``, each after the sentence it was read in (``fusion.context.with_read_facts``)."""
        ctx = self.context(text, facts)
        if ctx is None or not (facts and retrieved):
            return ctx
        self._need_retriever(retrieved)
        key = (text, facts, retrieved, "read_in", query)
        got = self._cache.get(key)
        if got is None:
            got = self._remember(key, with_read_facts(ctx, query, self.retriever, retrieved, self._facts))
        else:
            self._cache.move_to_end(key)
        return got

    def window_contexts(self, text: str, spans: Sequence[tuple[int, int]], facts: bool = True, retrieved: int = 0,
                        scoped: bool = False) -> list[KGContext | None]:
        """``context(text[lo:hi], facts, retrieved, within)`` for each ``(lo, hi)`` (``within`` the window itself
        when ``scoped``, else None), linking the document once for all its windows (a :class:`NameLinker` shares
        the name lookups of overlapping windows; results are the same)."""
        if self.linker is None:
            return [None] * len(spans)
        windows = [(text[lo:hi], text[lo:hi] if scoped else None) for lo, hi in spans]  # (window, within)
        todo = [span for span, (w, within) in zip(spans, windows) if (w, facts, retrieved, within) not in self._cache]
        if todo and isinstance(self.linker, NameLinker):
            for (lo, hi), mentions in zip(todo, self.linker.link_windows(text, todo)):
                self._build(text[lo:hi], mentions, facts, retrieved, text[lo:hi] if scoped else None)
        return [self.context(w, facts, retrieved, within) for w, within in windows]

    def clear(self) -> None:
        self._cache.clear()
        if self._facts is not None:
            self._facts.clear()
        if hasattr(self.retriever, "clear"):  # its remembered query vectors
            self.retriever.clear()

    def _build(self, text: str, mentions, facts: bool, retrieved: int, within: str | None) -> KGContext:
        if facts:
            self._need_retriever(retrieved)
        ctx = build_kg_context(
            text, self.store if facts else None, self.embeddings, self.retriever if facts else None,
            linker=self.linker, schema=self.schema, facts_per_entity=self.facts_per_entity,
            max_facts=self.max_facts, retrieved=retrieved if facts else 0, mentions=mentions,
            entity_facts=self._facts, within=within)
        return self._remember((text, facts, retrieved, within), ctx)

    def _remember(self, key: tuple, ctx: KGContext) -> KGContext:
        self._cache[key] = ctx
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return ctx

    def _need_retriever(self, retrieved: int) -> None:
        if retrieved and self.retriever is None:
            from fusion.errors import FusionError

            raise FusionError(f"This model reads {retrieved} retrieved facts per input but no retriever was given: "
                              "build the workspace's FAISS indexes with `kgnlp index`.")


def check_entity_vectors(entity_vectors: str) -> None:
    from fusion.errors import FusionError

    if entity_vectors not in ENTITY_VECTORS:
        raise FusionError(f"Unknown --entity-vectors '{entity_vectors}'. Choose one of: {', '.join(ENTITY_VECTORS)}.")


def vectors_for_training(embeddings, store, entity_vectors: str = "trained", embed_names=None):
    """The KG vectors a fused model is trained with. ``"trained"`` (the default): ``embeddings`` as they are.
    ``"all"``: plus a vector for every graph entity they lack, as ``kgnlp embed --infer-new`` gives (from trained
    neighbours, else mapped from the entity's name; marked inferred). KG-embedding training leaves out entities
    without a fact while the linker links them all, so without it the embeddings path skips their mentions (27 %
    of the linked mentions in BC5CDR test abstracts with the benchmark graph). ``embed_names`` defaults to the
    sentence embedder (its model loads on the first name it embeds). The workspace's files are not changed."""
    check_entity_vectors(entity_vectors)
    if embeddings is None or store is None or entity_vectors == "trained":
        return embeddings
    from kg.embeddings import infer_new_entities
    from nlp.embedder import Embedder

    return infer_new_entities(embeddings, store, list(store.entities()), embed_names or Embedder().encode)


def model_knowledge(model, store, retriever=None, linker=None) -> "Knowledge | None":
    """What a loaded fused ``model`` reads at inference: links and facts from ``store``, each entity's facts
    ranked with the graph embeddings training used (saved with the model) and put into the words training
    used (``FusionConfig.relation_verbs``), and the ``retriever``'s facts when the model reads retrieved facts
    (``FusionConfig.retrieved``); None without a store or a path. ``linker``: a :class:`NameLinker` of the
    store's names already read (``NameLinker.from_rows``), else one is built from the store."""
    if store is None or model.config.fusion == "none":
        return None
    return Knowledge(store=store, linker=linker, embeddings=model.kg_embeddings, schema=model.config.schema(),
                     retriever=retriever)


class InputBuilder:
    """Tokenises texts, looks up their knowledge and lays out fused inputs for one model configuration."""

    def __init__(self, tokenizer, config: FusionConfig, knowledge: Knowledge | None = None,
                 entity_row: dict[str, int] | None = None) -> None:
        self.tokenizer, self.config, self.knowledge = tokenizer, config, knowledge
        self.entity_row = entity_row if config.uses_embeddings else None
        self.specials = Specials.of(tokenizer)
        self._fact_cache: dict[str, tuple[int, ...]] = {}

    def needs_context(self) -> bool:
        return self.knowledge is not None and self.config.fusion != "none"

    def segment(self, text: str, ids=None, offsets=None, context=_LOOKUP, first: bool = True,
                passage: str | None = None, query: str | None = None) -> Segment:
        """``context``: the text's knowledge when the caller has it (see :meth:`window_contexts`). ``first``:
        the input's first text, the one retrieved facts are for (``FusionConfig.retrieved``); ``passage``: the
        input's last text (``text`` itself when None), where ``retrieve_from="passage"`` facts must be read;
        ``query``: for the last text of a pair, the first text (``retrieve_from="sentence"`` puts the facts most
        like it after the sentences of this text they were read in)."""
        if ids is None:
            ids, offsets = tokenise(self.tokenizer, text)
        if context is _LOOKUP:
            context = self.knowledge_of(text, first, passage, query=query) if self.needs_context() else None
        return Segment(tuple(ids), tuple(offsets), context)

    def knowledge_of(self, text: str, first: bool = True, passage: str | None = None, facts: bool | None = None,
                     query: str | None = None) -> KGContext | None:
        """What the model reads for ``text`` (see :meth:`segment`); ``facts`` (None: as the model's path says)
        asks for the graph's facts even when the model does not read them (to show them)."""
        c, facts = self.config, self.config.uses_facts if facts is None else facts
        k = self._retrieved()
        if c.retrieve_from == "sentence":  # the facts go to the last text: a pair's passage, else the text
            last = not first or passage is None
            return self.knowledge.read_in(text, query or text, k, facts) if k and last \
                else self.knowledge.context(text, facts)
        k = k if first else 0
        within = (text if passage is None else passage) if k and c.retrieve_from == "passage" else None
        return self.knowledge.context(text, facts, k, within)

    def input_knowledge(self, text: str, pair: str | None = None, facts: bool | None = None) -> list[KGContext]:
        """The knowledge of each text of an input (``text``, and ``pair`` when given), as :meth:`sequence` and
        :meth:`span` read it (``facts``: see :meth:`knowledge_of`)."""
        got = [self.knowledge_of(text, passage=pair, facts=facts)]
        if pair is not None:
            got.append(self.knowledge_of(pair, first=False, facts=facts, query=text))
        return [c for c in got if c is not None]

    def prefetch(self, texts: Sequence[str], pairs: Sequence[str | None] | None = None) -> None:
        """Embed the retrieval queries of inputs whose first texts are ``texts`` (and second texts ``pairs``,
        as :meth:`sequence` and :meth:`span` take them) in batches, ahead of :meth:`segment` (a retriever
        without ``prefetch`` embeds them one by one; batched vectors agree to float precision). With a passage
        or sentence scope, a query whose text holds no more facts than the model reads is not embedded: its
        search ranks nothing."""
        k = self._retrieved()
        retriever = self.knowledge.retriever if self.needs_context() and k else None
        if retriever is None or not hasattr(retriever, "prefetch"):
            return
        if self.config.retrieve_from == "graph":
            retriever.prefetch(texts)
        else:
            pairs = pairs if pairs is not None else [None] * len(texts)
            retriever.prefetch(texts, within=[t if p is None else p for t, p in zip(texts, pairs)], k=k)

    def _retrieved(self) -> int:
        return self.config.retrieved if self.config.uses_facts else 0

    def window_contexts(self, text: str, spans: Sequence[tuple[int, int]]) -> list[KGContext | None]:
        """The knowledge of each window ``text[lo:hi]``, the document linked once for all of them."""
        if not self.needs_context():
            return [None] * len(spans)
        contexts = self.knowledge.window_contexts(text, spans, self.config.uses_facts, self._retrieved(),
                                                  self.config.retrieve_from == "passage")
        if self.config.uses_facts:  # tokenise the new fact texts of all windows in one call
            todo = list(dict.fromkeys(w for c in contexts if c is not None for w in map(self.fact_words, c.facts)
                                      if w not in self._fact_cache))
            if todo:
                enc = self.tokenizer(todo, add_special_tokens=False, truncation=False, verbose=False)
                for fact_text, ids in zip(todo, enc["input_ids"]):
                    self._remember_fact(fact_text, tuple(ids))
        return contexts

    def clear(self) -> None:
        """Forget cached fact tokens and the knowledge's cached contexts and entity facts."""
        self._fact_cache.clear()
        if self.knowledge is not None:
            self.knowledge.clear()

    def build(self, segments: Sequence[Segment]) -> FusedInput:
        fact_ids = []
        if self.config.uses_facts:
            for seg in segments:
                facts = seg.context.facts if seg.context else ()
                fact_ids.append([self._fact_tokens(self.fact_words(f)) for f in facts])
        c = self.config
        item = assemble(segments, self.specials, fact_ids, max_length=c.max_length, use_facts=c.uses_facts,
                        kbert=c.fact_mode == "kbert", entity_row=self.entity_row,
                        max_fact_tokens=c.max_fact_tokens, max_facts=c.max_facts, fact_budget=c.fact_budget,
                        fact_share=c.fact_share,
                        truncation_side=c.truncation_side)
        if not c.kg_readout:
            return item
        return replace(item, kg_rows=readout_rows([s.context for s in segments], self.entity_row))

    def fact_words(self, fact) -> str:
        """What the model reads for ``fact``: its branch after its mention (``fact_words="branch"`` with K-BERT
        layout), else the whole sentence."""
        c = self.config
        if c.fact_mode == "kbert" and c.fact_words == "branch" and fact.anchor >= 0 and fact.branch:
            return fact.branch
        return fact.text

    def _fact_tokens(self, text: str) -> tuple[int, ...]:
        got = self._fact_cache.get(text)
        if got is None:
            got = self._remember_fact(text, tokenise(self.tokenizer, text)[0])
        return got

    def _remember_fact(self, text: str, ids: tuple[int, ...]) -> tuple[int, ...]:
        if len(self._fact_cache) >= _FACT_CACHE:
            self._fact_cache.clear()
        self._fact_cache[text] = ids
        return ids

    # ---- tasks -------------------------------------------------------------------------------
    def sequence(self, text: str, label: int | Sequence[int] | None = None, pair: str | None = None) -> FusedInput:
        """Sequence classification input; ``label`` an index, or indices for multilabel."""
        segs = [self.segment(text, passage=pair)] + ([self.segment(pair, first=False, query=text)] if pair else [])
        item = self.build(segs)
        if label is not None:
            item.extra["label"] = label
        return item

    def span(self, question: str, context: str, answer: tuple[int, int] | None = None) -> FusedInput:
        """Extractive QA input; ``answer`` is a character span in ``context`` (kept if it survives truncation)."""
        q, c = self.segment(question, passage=context), self.segment(context, first=False, query=question)
        item = self.build([q, c])
        n = len(item.body[1])
        kept = kept_tail(c, n).offsets if self.config.truncation_side == "left" else c.offsets[:n]
        item.extra["context_offsets"] = kept
        if answer is not None:
            toks = [i for i, (s, e) in enumerate(kept) if s < answer[1] and e > answer[0]]
            if toks:
                item.extra["start"], item.extra["end"] = item.body[1][toks[0]], item.body[1][toks[-1]]
            else:  # answer truncated away: point at [CLS] as SQuAD 2 does
                item.extra["start"] = item.extra["end"] = 0
        return item

    def tokens(self, text: str, ids, offsets, labels: Sequence[int] | None = None, context=_LOOKUP) -> FusedInput:
        """Token classification input for one window (``ids``/``offsets`` already cut from the document;
        ``context`` the window's knowledge if already known)."""
        item = self.build([self.segment(text, ids, offsets, context)])
        if labels is not None:
            item.extra["token_labels"] = [(item.body[0][i], lab) for i, lab in enumerate(labels[:len(item.body[0])])
                                          if lab != IGNORE]
        return item


def readout_rows(contexts: Sequence[KGContext | None], entity_row: dict[str, int]) -> tuple[int, ...]:
    """KG table rows of the entities an input's knowledge is about, for ``FusionConfig.kg_readout``: each linked
    mention's entity, then both ends of each fact (an entity may come more than once: the mean then weighs it
    by how much of the knowledge is about it). Entities without a vector are left out. The contexts are those of
    the whole texts, so knowledge of a part that truncation cuts from the tokens still counts here."""
    ids = [m.entity_id for ctx in contexts if ctx is not None for m in ctx.mentions]
    ids += [e for ctx in contexts if ctx is not None for f in ctx.facts if f.triple for e in (f.triple[0], f.triple[2])]
    return tuple(r for r in (entity_row.get(e or "", 0) for e in ids) if r)


def label_tensors(items: Sequence[FusedInput], head: str, width: int, n_labels: int) -> dict:
    """The label tensors of a batch (only when every row has labels)."""
    import torch

    if head == "token":
        if not all("token_labels" in i.extra for i in items):
            return {}
        labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
        for r, it in enumerate(items):
            for pos, lab in it.extra["token_labels"]:
                labels[r, pos] = lab
        return {"labels": labels}
    if head == "span":
        out = {}
        mask = torch.zeros((len(items), width), dtype=torch.bool)
        for r, it in enumerate(items):
            mask[r, list(it.body[1]) if len(it.body) > 1 else list(it.body[0])] = True
            mask[r, 0] = True
        out["span_mask"] = mask
        if all("start" in i.extra for i in items):
            out["start_positions"] = torch.tensor([i.extra["start"] for i in items])
            out["end_positions"] = torch.tensor([i.extra["end"] for i in items])
        return out
    if not all("label" in i.extra for i in items):
        return {}
    if head == "multilabel":
        labels = torch.zeros((len(items), n_labels))
        for r, it in enumerate(items):
            labels[r, list(it.extra["label"])] = 1.0
        return {"labels": labels}
    return {"labels": torch.tensor([int(i.extra["label"]) for i in items])}
