"""Fused NER: BIO token classification over windows of labelled documents, with graph knowledge.

Reuses ``nlp.ner``'s tokenisation, windowing, BIO tagging and decoding so offsets stay exact; each window
gets its own KG context (mentions and facts of the window's text).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

from fusion.config import FusionConfig, SavedConfig
from kg.records import Document, Mention
from fusion.examples import IGNORE, InputBuilder, Knowledge, model_knowledge
from fusion.tasks import TaskReport, prepare
from fusion.train import Progress, TrainSettings, digest, train_fused


@dataclass(frozen=True)
class Window:
    doc: int
    start: int  # first token of the window in the document's encoding
    end: int


def _windows(builder: InputBuilder, docs, label_ids: dict[str, int] | None, stride: int):
    """``(items, windows, encodings)``; labels sit on each word's first subword. A document is linked once
    for all its windows (``builder.window_contexts``); each window keeps its own context."""
    from nlp.ner.windows import encode, windows, word_tags

    size = builder.config.max_length - 2
    items, where, encs = [], [], []
    for d_i, d in enumerate(docs):
        text = d.doc.text
        enc = encode(builder.tokenizer, text)
        encs.append(enc)
        labels = None
        if label_ids is not None:
            tags = word_tags(enc, [(m.start, m.end, m.label) for m in d.mentions])
            labels = [IGNORE] * len(enc.ids)
            for (first, _, _), tag in zip(enc.word_spans(), tags):
                labels[first] = label_ids.get(tag, 0)
        spans = windows(len(enc.ids), size, stride)
        chars = [(enc.offsets[s][0], enc.offsets[e - 1][1]) for s, e in spans]
        contexts = builder.window_contexts(text, chars)
        for (s, e), (lo, hi), ctx in zip(spans, chars, contexts):
            # the window's own text keeps character offsets relative to the document
            offsets = tuple((a - lo, b - lo) for a, b in enc.offsets[s:e])
            item = builder.tokens(text[lo:hi], enc.ids[s:e], offsets, labels[s:e] if labels else None, ctx)
            items.append(item)
            where.append(Window(d_i, s, e))
    return items, where, encs


def predict_fused_ner(model, builder: InputBuilder, docs, stride: int = 32, batch_size: int = 32):
    """Predicted ``(start, end, label)`` spans per document (character offsets). Windows of all documents
    are batched together (by length)."""
    from fusion.predict import outputs
    from nlp.ner.windows import best_window, decode_words

    items, where, encs = _windows(builder, docs, None, stride)
    logits = outputs(model, items, batch_size)
    labels = model.config.labels
    by_doc: list[list[int]] = [[] for _ in encs]
    for k, w in enumerate(where):
        by_doc[w.doc].append(k)
    result = []
    for d_i, enc in enumerate(encs):
        mine = by_doc[d_i]
        best = best_window(len(enc.ids), [(where[k].start, where[k].end) for k in mine])
        tops = {k: logits[k].argmax(-1).tolist() for k in mine}
        tags = []
        for first, _, _ in enc.word_spans():
            k = mine[best[first]]
            pos = items[k].body[0][first - where[k].start]
            tags.append(labels[tops[k][pos]])
        result.append([(s, e, lab) for s, e, lab, _ in decode_words(enc, tags)])
    return result


def ner_f1(gold_docs, predicted) -> dict:
    """Micro precision, recall, F1 and counts (exact span and type, as `kgnlp eval ner` scores) of
    :func:`predict_fused_ner`'s (start, end, label) spans against ``LabelledDoc``s."""
    from nlp.evaluation import score_ner

    return asdict(score_ner([d.mentions for d in gold_docs], predicted).overall)


def train_fused_ner(
    train_docs: Sequence,
    out_dir: str | Path,
    *,
    fusion: str = "none",
    encoder: str | Path | None = None,
    store=None,
    embeddings=None,
    schema=None,
    workspace: str | Path | None = None,
    dev_docs: Sequence | None = None,
    settings: TrainSettings = TrainSettings(),
    max_length: int = 128,
    stride: int = 32,
    fact_mode: str = "kbert",
    fact_words: str = "branch",
    fact_share: float = FusionConfig.fact_share,  # the measured setting (BENCHMARKS.md), as for the other heads
    inject_layer: int = 0,
    progress: Callable[[Progress], None] | None = None,
    knowledge: Knowledge | None = None,
    resume: bool = True,
) -> TaskReport:
    """Train a fused BIO tagger on ``LabelledDoc``s (``nlp.formats.load_labelled``); early stopping on dev
    entity micro-F1 when ``dev_docs`` are given. ``store``/``embeddings`` supply the graph (read from
    ``workspace``, recorded with the model) and ``schema`` the words facts are said in (or pass a ready
    ``knowledge``). The saved directory loads with ``FusedModel.load``."""
    from nlp.ner.train_transformer import bio_labels
    from nlp.ner.windows import bio_types

    labels = tuple(bio_labels(train_docs))
    if knowledge is None and fusion != "none":
        knowledge = Knowledge(store=store, embeddings=embeddings, schema=schema, workspace=str(workspace or ""))
    config = FusionConfig(head="token", labels=labels, fusion=fusion, fact_mode=fact_mode, fact_words=fact_words,
                          fact_share=fact_share, inject_layer=inject_layer, max_length=max_length)
    model, tokenizer, builder = prepare(encoder, config, knowledge, settings.seed)
    label_ids = {lab: i for i, lab in enumerate(labels)}
    items, _, _ = _windows(builder, train_docs, label_ids, stride)
    score = None
    if dev_docs:
        score = lambda m: ner_f1(dev_docs, predict_fused_ner(m, builder, dev_docs, stride))["f1"]  # noqa: E731
    result = train_fused(model, items, out_dir, settings, score=score, tokenizer=tokenizer, progress=progress,
                         extra={"task": "ner", "stride": stride, "train_docs": len(train_docs)}, resume=resume,
                         dev_digest=digest((d.doc.text, [(m.start, m.end, m.label) for m in d.mentions])
                                           for d in dev_docs) if dev_docs else "")
    dev, unseen = {}, ()
    if dev_docs:
        from fusion.model import FusedModel
        from nlp.evaluation import score_ner

        best = FusedModel.load(out_dir).to(settings.device)
        predicted = predict_fused_ner(best, InputBuilder(tokenizer, best.config, knowledge, best.entity_row),
                                      dev_docs, stride)
        # mentions of types it was not trained on are misses it cannot avoid: counted, as `eval ner` counts them
        scores = score_ner([d.mentions for d in dev_docs], predicted, bio_types(labels))
        dev, unseen = scores.as_dict(), tuple(scores.not_trained)
    return TaskReport(result, dev, labels, fusion, unseen)


class FusedNER:
    """A saved fused token classifier as an ``nlp.interfaces.NERLayer`` (for ``kgnlp ner|ingest --model``)."""

    name = "fused-ner"
    kind = "transformer"  # a graph-fused token classifier: same cost class and vote as the transformer
    priority = 20

    def __init__(self, model, builder: InputBuilder) -> None:
        self._model, self._builder = model, builder

    @classmethod
    def load(cls, folder: "str | Path | SavedConfig", store=None, retriever=None, linker=None) -> "FusedNER":
        """Load ``folder`` (or its config.json already read); with a ``store`` (and a fusion path on) the graph
        supplies links and facts (``retriever``: where a model that reads retrieved facts gets them; ``linker``: the
        store's names when already read, ``fusion.examples.model_knowledge``)."""
        from fusion.config import check_head, saved_config
        from fusion.model import FusedModel, load_tokenizer

        saved = saved_config(folder)
        check_head(saved.head, saved.folder, ("token",), "an NER --model", "`kgnlp train ner --fusion ...`")
        model = FusedModel.load(saved)
        return cls._reading(model, load_tokenizer(saved.folder), store, retriever, linker)

    def reading(self, store=None, retriever=None, linker=None) -> "FusedNER":
        """This loaded model reading the graph ``store`` instead (``retriever``, ``linker`` as for :meth:`load`):
        ``kgnlp ingest`` loads a model before it touches the workspace, and gives it the graph once its --seed is
        stored."""
        return self._reading(self._model, self._builder.tokenizer, store, retriever, linker)

    @classmethod
    def _reading(cls, model, tokenizer, store, retriever, linker) -> "FusedNER":
        knowledge = model_knowledge(model, store, retriever, linker)
        return cls(model, InputBuilder(tokenizer, model.config, knowledge, model.entity_row))

    @property
    def entity_types(self) -> tuple[str, ...]:
        """The entity types it was trained on (``nlp.interfaces.NERLayer``)."""
        from nlp.ner.windows import bio_types

        return bio_types(self._model.config.labels)

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        from nlp.formats.records import LabelledDoc

        docs = [LabelledDoc(Document(str(i), t)) for i, t in enumerate(texts)]
        spans = predict_fused_ner(self._model, self._builder, docs)
        return [[Mention(s, e, t[s:e], label, None, 0.9) for s, e, label in doc] for t, doc in zip(texts, spans)]
