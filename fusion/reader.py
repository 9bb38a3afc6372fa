"""Read answers from passages with a trained fused model: yes/no/maybe (PubMedQA style, a sequence head over
question + passage) or an extractive span. ``kgnlp ask --model DIR`` uses it when the graph cannot answer."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from fusion.errors import FusionError

_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script: "Müller", "метформин", "二甲双胍"
_STOP = set("a an the of in on for to and or is are was were be does do did what which who how with by".split())


@dataclass(frozen=True)
class Passage:
    doc_id: str
    text: str


@dataclass(frozen=True)
class ReadAnswer:
    text: str
    score: float
    passage: Passage
    scores: dict[str, float] = field(default_factory=dict)  # every label's probability (yes/no/maybe models)


def rank_passages(question: str, passages: Sequence[Passage], k: int = 3) -> list[Passage]:
    """The ``k`` passages sharing the most content words with the question (when no FAISS index exists)."""
    words = {w for w in _WORD.findall(question.lower()) if w not in _STOP}
    scored = []
    for p in passages:
        have = set(_WORD.findall(p.text.lower()))
        scored.append((len(words & have) / (len(words) or 1), p))
    scored.sort(key=lambda sp: -sp[0])
    return [p for score, p in scored[:k] if score > 0]


def check_yes_no(model_dir: Path, labels, command: str = "ask --model") -> None:
    """A sequence model answers yes/no/maybe questions only when those are its labels (not a sentiment classifier)."""
    from nlp.formats.pubmedqa import DECISIONS

    if not {str(lab).lower() for lab in labels} <= set(DECISIONS):
        raise FusionError(f"'{model_dir}' classifies into {', '.join(map(str, labels))}, not yes/no/maybe: "
                          f"`{command}` needs a QA model (`kgnlp train qa --data FILE --out DIR`).")


def check_reader(model_dir: str | Path, command: str = "ask --model") -> str:
    """Before anything loads or is answered: ``model_dir`` holds a QA model (yes/no/maybe or spans), else a
    one-line FusionError saying what it is (and what ``command`` needs). Its head: sequence or span."""
    from fusion.config import read_config

    saved = read_config(model_dir)["fusion"]
    if saved["head"] == "sequence":
        check_yes_no(Path(model_dir), saved.get("labels", ()), command)
    elif saved["head"] != "span":
        raise FusionError(_not_qa(model_dir, saved["head"], command))
    return saved["head"]


def _not_qa(model_dir: str | Path, head: str, command: str = "ask --model") -> str:
    return (f"'{model_dir}' is a {head} model; `{command}` needs a QA model (`kgnlp train qa --data FILE "
            "--out DIR`).")


class Reader:
    """A loaded QA model that reads passages: yes/no/maybe (sequence head) or extractive spans (span head)."""

    def __init__(self, head: str, model_dir: Path, store=None, retriever=None) -> None:
        self.head, self.model_dir, self.store = head, model_dir, store
        if head == "sequence":
            from fusion.predict import Classifier

            self._classifier = Classifier.load(model_dir, store, retriever)
            check_yes_no(model_dir, self._classifier.model.config.labels)
        elif head == "span":
            self._span = _SpanReader(model_dir, store, retriever)
        else:
            raise FusionError(_not_qa(model_dir, head))

    @classmethod
    def load(cls, model_dir: str | Path, store=None, retriever=None) -> "Reader":
        from fusion.config import read_config

        return cls(read_config(model_dir)["fusion"]["head"], Path(model_dir), store, retriever)

    def read(self, question: str, passages: Sequence[Passage]) -> list[ReadAnswer]:
        """One answer per passage, best first. Give the passages best-ranked first: a yes/no/maybe model's answers
        keep that order (the top-ranked passage's label is the answer), a span model's are sorted by score.

        A yes/no/maybe model is trained on each question with its own passage, so its confidence on another
        passage says little: on PubMedQA (``benchmarks/pubmedqa_ask.py --dev``, BENCHMARKS.md) the most confident
        of three passages answered worse than the top-ranked one, on held-out questions and on the test set."""
        if not passages:
            return []
        answers = self.read_pairs([question] * len(passages), [p.text for p in passages], passages)
        if self.head == "sequence":
            return answers  # type: ignore[return-value]  (a sequence head always answers)
        return sorted((a for a in answers if a is not None), key=lambda a: -a.score)

    def read_pairs(self, questions: Sequence[str], texts: Sequence[str],
                   passages: Sequence[Passage] | None = None) -> list[ReadAnswer | None]:
        """Each question answered from its own text, in one batched pass (``kgnlp eval qa --model``); a span
        model's answer is None where no span fits. ``passages``: what each answer names (default: unnamed)."""
        passages = passages or [Passage("", t) for t in texts]
        if self.head == "sequence":
            preds = self._classifier.classify(list(questions), list(texts))
            return [ReadAnswer(pr.label, round(pr.score, 4), p, dict(pr.scores)) for pr, p in zip(preds, passages)]
        return self._span.read_pairs(questions, passages)


def read_answers(model_dir: str | Path, question: str, passages: Sequence[Passage], store=None,
                 retriever=None) -> list[ReadAnswer]:
    """One answer per passage, best first (:meth:`Reader.read`): the label of a yes/no/maybe model, or the best
    span of a QA model."""
    if not passages:
        return []
    return Reader.load(model_dir, store, retriever).read(question, passages)


class _SpanReader:
    def __init__(self, model_dir: Path, store, retriever=None) -> None:
        from fusion.examples import InputBuilder, model_knowledge
        from fusion.model import FusedModel, load_tokenizer

        self.model = FusedModel.load(model_dir)
        tokenizer = load_tokenizer(model_dir)
        knowledge = model_knowledge(self.model, store, retriever)
        self.builder = InputBuilder(tokenizer, self.model.config, knowledge, self.model.entity_row)

    def read_pairs(self, questions: Sequence[str], passages: Sequence[Passage]) -> list[ReadAnswer | None]:
        import numpy as np

        from fusion.predict import best_span, outputs

        self.builder.prefetch(list(questions), [p.text for p in passages])
        items = [self.builder.span(q, p.text) for q, p in zip(questions, passages)]
        out: list[ReadAnswer | None] = []
        for it, lg, p in zip(items, outputs(self.model, items), passages):
            i, j, score = best_span(lg[:, 0], lg[:, 1], it.body[1])
            offs = it.extra["context_offsets"]
            pos = {q: n for n, q in enumerate(it.body[1])}
            prob = float(1 / (1 + np.exp(-score / 2)))  # a monotone squash of the start+end logit sum
            out.append(ReadAnswer(p.text[offs[pos[i]][0]:offs[pos[j]][1]], round(prob, 4), p)
                       if i in pos and j in pos else None)
        return out
