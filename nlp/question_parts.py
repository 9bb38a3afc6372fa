"""A compound question's parts (``nlp.compound`` finds them) answered in turn: a pronoun in a part read as the
previous part's answer, the middle of its chain or its subject, whichever the part's relation takes; "else" leaving
out what the previous part named or answered. Each reading of a part is linked once and answered once."""
from __future__ import annotations

from typing import Callable

from kg.records import Entity
from kg.schema import Schema
from kg.store import GraphStore
from kg.views import entities_named
from nlp.answers import QAResult, other_end
from nlp.compound import ELSE, PLURAL, PRONOUN, substitute
from nlp.question_links import LinkedEntity, link_question
from nlp.question_relations import find_cues, roles_allowed, word_role

# one question answered: its text, the entities it names, the ids "else" leaves out (None: no previous part)
AnswerOne = Callable[[str, list[LinkedEntity], "frozenset[str] | None"], QAResult]
MAX_REFERRED = 3  # "Which drugs does Corvane make and what do they treat?": one part for each of its first answers


class PartAnswers:
    """The questions a compound question's parts may become, each linked and answered once: a part with a pronoun
    is linked for each reading while one is chosen, and answered to break a tie, then answered as chosen."""

    def __init__(self, store: GraphStore, schema: Schema, answer_one: AnswerOne) -> None:
        self.store, self.schema, self._answer_one = store, schema, answer_one
        self._linked: dict[str, list[LinkedEntity]] = {}
        self._results: dict[tuple[str, frozenset[str] | None], QAResult] = {}

    def linked(self, text: str) -> list[LinkedEntity]:
        """The entities ``text`` names."""
        if text not in self._linked:
            self._linked[text] = link_question(self.store, text)
        return self._linked[text]

    def result(self, text: str, exclude: frozenset[str] | None) -> QAResult:
        """``text`` answered, none of ``exclude`` (None: no previous part)."""
        key = (text, exclude)
        if key not in self._results:
            linked = self.linked(text)
            self._results[key] = self._answer_one(text, linked, exclude) if linked else QAResult(text, (), (), ())
        return self._results[key]


def answer_parts(question: str, parts: list[str], asked: PartAnswers) -> QAResult:
    """Each part answered on its own, a pronoun in it read as the previous part's answer or subject: ``parts``
    holds each part's result (several for one part where "they" stood for several answers), ``answers`` all their
    answers in order."""
    results: list[QAResult] = []
    previous: list[QAResult] = []  # the previous part's results: several where "they" stood for several answers
    for part in parts:
        exclude = _mentioned(previous) if previous and ELSE.search(part) else None
        current = [asked.result(text, exclude)
                   for text in _resolved(asked, part, previous[-1] if previous else None, exclude)]
        results += current
        previous = current
    return QAResult(question, tuple(a for r in results for a in r.answers),
                    tuple(le for r in results for le in r.entities),
                    tuple(dict.fromkeys(rel for r in results for rel in r.relations)), tuple(results))


def _mentioned(results: list[QAResult]) -> frozenset[str]:
    """The ids of a part's entities and answers (of all its questions): what "else" in the next part leaves out
    ("What does warfarin treat and what else treats it?": neither warfarin nor deep vein thrombosis)."""
    return frozenset([le.entity.id for r in results for le in r.entities]
                     + [a.entity_id for r in results for a in r.answers if a.entity_id])


def _resolved(asked: PartAnswers, part: str, previous: QAResult | None,
              exclude: frozenset[str] | None) -> list[str]:
    """``part`` with its pronoun replaced by what it refers to: the previous part's answer ("Who makes metformin
    and where are they based?") or its subject ("Which drugs does Corvane make and who is its CEO?"), whichever
    the relation asked about takes (of two that take it alike: after several answers, "they" stands for them and
    "it" for the subject, else the first the graph answers for, none of ``exclude``); a plural pronoun and several
    answers: one question for each."""
    pronoun = PRONOUN.search(part)
    if pronoun is None or previous is None:
        return [part]
    store = asked.store
    answered = [e for e in (store.entity(a.entity_id) for a in previous.answers if a.entity_id) if e is not None]
    # the answer, the middle of its chain ("the company" in "Who runs the company that makes metformin and where is
    # it based?"), the subject
    candidates = list({e.id: e for e in answered[:1] + _middle(store, previous)
                       + [le.entity for le in previous.entities[:1]]}.values())  # each entity once
    if not candidates:
        return [part]
    texts = {e.id: substitute(part, pronoun, e.name) for e in candidates}
    fit = {e.id: _fit(texts[e.id], asked.linked(texts[e.id]), pronoun.start(), e, asked.schema) for e in candidates}
    tied = [e for e in candidates if fit[e.id] == max(fit.values())]
    plural = pronoun.group(1).lower() in PLURAL
    if len(tied) > 1 and len(answered) > 1:  # several answers: "they" stands for them, "it" for the subject
        chosen = tied[0] if plural else tied[1]
    else:
        chosen = next((e for e in tied if asked.result(texts[e.id], exclude).answers), tied[0])
    if answered and chosen == answered[0] and plural:
        return [substitute(part, pronoun, e.name) for e in answered[:MAX_REFERRED]]
    return [texts[chosen.id]]


def _middle(store: GraphStore, previous: QAResult) -> list[Entity]:
    """The entity between the two facts of the chain behind the previous part's best answer, if it has two: not
    the answer itself (named in each fact of a "both X and Y" answer), and of namesakes the one a fact links to
    the answer."""
    if not previous.answers:
        return []
    best = previous.answers[0]
    triples = {ev.triple for ev in best.evidence if ev.triple}
    ends = [name for t in triples for name in {t[0], t[2]}]
    near = ({other_end(t, best.entity_id) for t in store.neighbours(best.entity_id, hops=1)}
            if best.entity_id else None)
    return [e for name in dict.fromkeys(ends) if ends.count(name) > 1 for e in entities_named(store, name, limit=3)
            if e.id != best.entity_id and (near is None or e.id in near)][:1]


def _fit(text: str, linked: list[LinkedEntity], at: int, entity: Entity, schema: Schema) -> int:
    """How well ``entity``, named at ``at`` in ``text`` (which names ``linked``), fits the relation asked about
    there: 2 in the role the words give it, 1 in some role its type may take, 0 not at all (or no relation asked
    about)."""
    end = at + len(entity.name)
    masked = [(le.start, le.end) for le in linked] + [(at, end)]
    cues = [c for c in find_cues(text, masked) if c.relation in schema.names()]
    if not cues:
        return 0
    cue = min(cues, key=lambda c: abs(c.start - at))
    allowed = roles_allowed(schema, cue.relation, entity.type)
    return 0 if not allowed else 2 if word_role(text, cue, at, end) in allowed else 1
