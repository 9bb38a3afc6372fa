"""Read answers from passages with a trained fused model: yes/no/maybe (PubMedQA style, a sequence head over
question + passage) or an extractive span. ``kgnlp ask --model DIR`` uses it when the graph cannot answer."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from fusion.errors import FusionError

if TYPE_CHECKING:
    from fusion.config import SavedConfig

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


def check_reader(model: "str | Path | SavedConfig", command: str = "ask --model") -> str:
    """Before anything loads or is answered: ``model`` (a folder, or its config.json already read) holds a QA
    model (yes/no/maybe or spans), else a one-line FusionError saying what it is (and what ``command`` needs).
    Its head: sequence or span. The one check of what a :class:`Reader` reads."""
    from fusion.config import saved_config

    saved = saved_config(model)
    if saved.head == "sequence" and not saved.yes_no_labels:  # a classifier (of sentiment, say)
        raise FusionError(f"'{saved.folder}' classifies into {', '.join(map(str, saved.fusion.labels))}, not "
                          f"yes/no/maybe: `{command}` needs a QA model (`kgnlp train qa --data FILE --out DIR`).")
    if saved.head not in ("sequence", "span"):
        raise FusionError(f"'{saved.folder}' is a {saved.head} model; `{command}` needs a QA model (`kgnlp train qa "
                          "--data FILE --out DIR`).")
    return saved.head


class Reader:
    """A loaded QA model that reads passages: yes/no/maybe (sequence head) or extractive spans (span head)."""

    def __init__(self, saved: "SavedConfig", store=None, retriever=None, linker=None) -> None:
        """``saved``: a model :func:`check_reader` accepted (:meth:`load` checks it)."""
        self.head, self.model_dir, self.store = saved.head, saved.folder, store
        if self.head == "sequence":
            from fusion.predict import Classifier

            self._classifier = Classifier.load(saved, store, retriever, linker)
        else:
            self._span = _SpanReader(saved, store, retriever, linker)

    @classmethod
    def load(cls, model: "str | Path | SavedConfig", store=None, retriever=None, linker=None,
             command: str = "ask --model") -> "Reader":
        """The QA model in folder ``model`` (or its config.json already read), checked first (:func:`check_reader`);
        ``store`` supplies links and facts (``linker``: its names, when already linked with), ``retriever``
        retrieved facts."""
        from fusion.config import saved_config

        saved = saved_config(model)
        check_reader(saved, command)
        return cls(saved, store, retriever, linker)

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


def read_answers(model: "str | Path | SavedConfig", question: str, passages: Sequence[Passage], store=None,
                 retriever=None, linker=None) -> list[ReadAnswer]:
    """One answer per passage, best first (:meth:`Reader.read`): the label of a yes/no/maybe model, or the best
    span of a QA model."""
    if not passages:
        return []
    return Reader.load(model, store, retriever, linker).read(question, passages)


class _SpanReader:
    def __init__(self, saved: "SavedConfig", store, retriever=None, linker=None) -> None:
        from fusion.examples import InputBuilder, model_knowledge
        from fusion.model import FusedModel, load_tokenizer

        self.model = FusedModel.load(saved)
        tokenizer = load_tokenizer(saved.folder)
        knowledge = model_knowledge(self.model, store, retriever, linker)
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
