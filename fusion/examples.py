"""From task data to :class:`FusedInput` rows with labels: the knowledge source and the input builder."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from fusion.config import FusionConfig
from fusion.context import KGContext, NameLinker, build_kg_context
from fusion.inputs import FusedInput, Segment, Specials, assemble, tokenise

IGNORE = -100


@dataclass
class Knowledge:
    """Where contexts come from: a store (+ linker, embeddings, retriever). Contexts are cached by text."""

    store: object = None
    linker: object = None
    embeddings: object = None
    retriever: object = None
    schema: object = None
    facts_per_entity: int = 2
    max_facts: int = 4
    retrieved: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.linker is None and self.store is not None:
            self.linker = NameLinker.from_store(self.store)

    def context(self, text: str) -> KGContext | None:
        if self.linker is None:
            return None
        if text not in self._cache:
            self._cache[text] = build_kg_context(
                text, self.store, self.embeddings, self.retriever, linker=self.linker, schema=self.schema,
                facts_per_entity=self.facts_per_entity, max_facts=self.max_facts, retrieved=self.retrieved)
        return self._cache[text]


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

    def segment(self, text: str, ids=None, offsets=None) -> Segment:
        if ids is None:
            ids, offsets = tokenise(self.tokenizer, text)
        ctx = self.knowledge.context(text) if self.needs_context() else None
        return Segment(tuple(ids), tuple(offsets), ctx)

    def build(self, segments: Sequence[Segment]) -> FusedInput:
        fact_ids = []
        if self.config.uses_facts:
            for seg in segments:
                facts = seg.context.facts if seg.context else ()
                fact_ids.append([self._fact_tokens(f.text) for f in facts])
        c = self.config
        return assemble(segments, self.specials, fact_ids, max_length=c.max_length, use_facts=c.uses_facts,
                        kbert=c.fact_mode == "kbert", entity_row=self.entity_row,
                        max_fact_tokens=c.max_fact_tokens, max_facts=c.max_facts, fact_budget=c.fact_budget)

    def _fact_tokens(self, text: str) -> tuple[int, ...]:
        if text not in self._fact_cache:
            self._fact_cache[text] = tokenise(self.tokenizer, text)[0]
        return self._fact_cache[text]

    # ---- tasks -------------------------------------------------------------------------------
    def sequence(self, text: str, label: int | Sequence[int] | None = None, pair: str | None = None) -> FusedInput:
        """Sequence classification input; ``label`` an index, or indices for multilabel."""
        segs = [self.segment(text)] + ([self.segment(pair)] if pair else [])
        item = self.build(segs)
        if label is not None:
            item.extra["label"] = label
        return item

    def span(self, question: str, context: str, answer: tuple[int, int] | None = None) -> FusedInput:
        """Extractive QA input; ``answer`` is a character span in ``context`` (kept if it survives truncation)."""
        q, c = self.segment(question), self.segment(context)
        item = self.build([q, c])
        item.extra["context_offsets"] = c.offsets[:len(item.body[1])]
        if answer is not None:
            toks = [i for i, (s, e) in enumerate(c.offsets[:len(item.body[1])]) if s < answer[1] and e > answer[0]]
            if toks:
                item.extra["start"], item.extra["end"] = item.body[1][toks[0]], item.body[1][toks[-1]]
            else:  # answer truncated away: point at [CLS] as SQuAD 2 does
                item.extra["start"] = item.extra["end"] = 0
        return item

    def tokens(self, text: str, ids, offsets, labels: Sequence[int] | None = None) -> FusedInput:
        """Token classification input for one window (``ids``/``offsets`` already cut from the document)."""
        item = self.build([self.segment(text, ids, offsets)])
        if labels is not None:
            item.extra["token_labels"] = [(item.body[0][i], lab) for i, lab in enumerate(labels[:len(item.body[0])])
                                          if lab != IGNORE]
        return item


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
