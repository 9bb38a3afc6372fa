"""The fast NER layer: spaCy's transition-based NER on a CNN tok2vec, trained from a blank pipeline.

Saved under ``<dir>/pipeline`` in spaCy's own msgpack format (no pickle); ``kgnlp_ner.json`` marks the dir.
"""
from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Sequence

from kg.records import Mention
from nlp.errors import NLPError
from nlp.evaluation import score_layer
from nlp.formats.records import LabelledDoc
from nlp.ner.model_dir import check_out, damaged, read_marker, write_marker
from nlp.ner.training import (EarlyStopping, ProgressFn, TrainConfig, TrainProgress, TrainReport, no_progress,
                              training_device, training_precision)

CHUNK = 50_000  # characters per piece of a very long text; spaCy's CNN needs no more context


class SpacyNER:
    """A trained spaCy pipeline (tokenizer + ner) as an NERLayer."""

    name = "spacy-cnn"
    kind = "cnn"
    priority = 20

    def __init__(self, nlp, batch_size: int = 64) -> None:
        self.nlp = nlp
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: str | Path, batch_size: int = 64) -> "SpacyNER":
        import spacy

        read_marker(path)
        pipe_dir = Path(path) / "pipeline"
        if not pipe_dir.exists():
            raise NLPError(f"Model dir '{path}' has no pipeline/ folder. Retrain it with `kgnlp train ner --kind spacy`.")
        try:
            nlp = spacy.load(pipe_dir)
        except Exception as exc:  # noqa: BLE001 - spaCy/thinc/srsly raise many kinds on cut or missing files
            raise damaged(path, exc) from exc
        return cls(nlp, batch_size)

    @property
    def entity_types(self) -> tuple[str, ...]:
        """The entity types it was trained on (``nlp.interfaces.NERLayer``)."""
        return tuple(sorted(self.nlp.get_pipe("ner").labels))

    def sentence_pipeline(self):
        """This model's pipeline plus a rule-based sentencizer: the extractor's single pass (see Extractor)."""
        if "sentencizer" not in self.nlp.pipe_names:
            self.nlp.add_pipe("sentencizer")
        return self.nlp

    def from_doc(self, doc) -> list[Mention]:
        """Mentions from a Doc this model's own pipeline produced."""
        return [Mention(e.start_char, e.end_char, e.text, e.label_, None, 1.0) for e in doc.ents]

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        pieces: list[tuple[int, int, str]] = []  # (text index, offset, piece)
        for ti, text in enumerate(texts):
            for off, piece in split_long(text, CHUNK):
                pieces.append((ti, off, piece))
        out: list[list[Mention]] = [[] for _ in texts]
        docs = self.nlp.pipe((p for _, _, p in pieces), batch_size=self.batch_size)
        for (ti, off, _), doc in zip(pieces, docs):
            for ent in doc.ents:
                s, e = off + ent.start_char, off + ent.end_char
                out[ti].append(Mention(s, e, texts[ti][s:e], ent.label_, None, 1.0))
        return out


def split_long(text: str, limit: int) -> list[tuple[int, str]]:
    """Pieces of at most ``limit`` characters, cut at whitespace where possible, with their offsets."""
    if len(text) <= limit:
        return [(0, text)]
    out, start = [], 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            end = cut + 1 if cut > start else end
        out.append((start, text[start:end]))
        start = end
    return out


def _examples(nlp, docs: Sequence[LabelledDoc]):
    from spacy.training import Example, offsets_to_biluo_tags

    examples = []
    for d in docs:
        doc = nlp.make_doc(d.doc.text)
        ents = _non_overlapping([(m.start, m.end, m.label) for m in d.mentions])
        # tokens outside every span are O; spans that do not fall on token boundaries stay "-" (missing)
        tags = offsets_to_biluo_tags(doc, ents)
        examples.append(Example.from_dict(doc, {"entities": tags}))
    return examples


def _non_overlapping(spans):
    out, last_end = [], -1
    for s, e, lab in sorted(spans, key=lambda x: (x[0], -x[1])):
        if s >= last_end:
            out.append((s, e, lab))
            last_end = e
    return out


def train_spacy_ner(train_docs: Sequence[LabelledDoc], out_dir: str | Path, config: TrainConfig,
                    dev_docs: Sequence[LabelledDoc] | None = None,
                    progress: ProgressFn | None = None) -> TrainReport:
    """Train spaCy NER from a blank English pipeline; keep the best dev epoch (or the last without dev)."""
    import logging
    import warnings

    import spacy
    from spacy.util import fix_random_seed, minibatch

    training_device("spacy", config.device)  # a GPU asked for is an error, not ignored
    training_precision("spacy", config.precision)  # so is bf16
    progress = progress or no_progress
    started = time.perf_counter()
    fix_random_seed(config.seed)
    rng = random.Random(config.seed)
    if config.cnn_width < 8 or config.cnn_depth < 1:
        raise NLPError(f"CNN width must be >= 8 and depth >= 1 (got {config.cnn_width} and {config.cnn_depth}).")
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner", config={"model": {"tok2vec": {"width": config.cnn_width, "depth": config.cnn_depth}}})
    labels = sorted({m.label for d in train_docs for m in d.mentions})
    if not labels:
        raise NLPError("The training data has no entity mentions. Check the file and --format.")
    for lab in labels:
        ner.add_label(lab)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W030: misaligned spans are treated as missing on purpose
        logging.getLogger("spacy").setLevel(logging.ERROR)
        examples = _examples(nlp, train_docs)
    optimizer = nlp.initialize(lambda: examples)
    if config.learning_rate:
        optimizer.learn_rate = config.learning_rate
    per_epoch = (len(examples) + config.batch_size - 1) // config.batch_size
    total = per_epoch * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    layer = SpacyNER(nlp)
    out = Path(out_dir)
    early, step, history = EarlyStopping(config.patience), 0, []
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=config.batch_size):
            if step >= total:
                break
            nlp.update(batch, drop=config.dropout, sgd=optimizer, losses=losses)
            step += 1
            progress(TrainProgress("train", epoch, step, total, float(losses.get("ner", 0.0)) / max(1, step - (epoch - 1) * per_epoch)))
        record = {"epoch": epoch, "loss": round(float(losses.get("ner", 0.0)), 2)}
        if dev_docs:
            scores = score_layer(layer, dev_docs)
            record["dev_f1"] = scores.overall.f1
            progress(TrainProgress("eval", epoch, step, total, float(losses.get("ner", 0.0)), scores.overall.f1))
            if early.update(epoch, scores):
                _save(nlp, out, labels, config)
        else:
            early.best_epoch = epoch
        history.append(record)
        if (dev_docs and early.stop) or step >= total:
            break
    if not dev_docs:
        _save(nlp, out, labels, config)
    report = TrainReport(str(out), "spacy", tuple(labels), epoch, early.best_epoch,
                         round(time.perf_counter() - started, 1), len(train_docs), early.scores, tuple(history))
    write_marker(out, "spacy", labels, {"config": config.as_dict(), "report": report.as_dict()})
    return report


def _save(nlp, out: Path, labels: list[str], config: TrainConfig) -> None:
    check_out(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    nlp.to_disk(tmp / "pipeline")
    write_marker(tmp, "spacy", labels, {"config": config.as_dict()})
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
