"""Question answering over the graph: link the question's entities, find the relation(s) it asks
about and their direction, follow one or two hops, and return answers with their evidence.

A yes/no question ("Does metformin treat T2D?") is answered "yes" when a chain of the facts it asks about links
two of its entities, with those facts as evidence; otherwise, as for every question, "no answer" is returned rather
than a guess (the graph not holding a fact is not evidence for "no").
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from kg.records import Entity, Triple
from kg.schema import Schema
from kg.store import GraphStore
from kg.views import NameCache, searched_once
from nlp.answers import Answer, QAResult, Via, evidence_of, marked_via, other_end
from nlp.compound import BOTH, ELSE, YES_NO, Span, first_list, split_question
from nlp.describe import ABOUT, describe, describe_term, without_entity
from nlp.errors import NLPError
from nlp.narrower import narrower_entities
from nlp.question_cues import ASKED_NEGATION, ASKS_WHERE, NOT_YES_NO, READ_BOTH_WAYS
from nlp.question_links import BROAD, LinkedEntity, link_question
from nlp.question_conditions import Conditions, named_twice, object_of, read_conditions, read_yes_no
from nlp.question_parts import PartAnswers, answer_parts
from nlp.question_relations import (Cue, all_cues, drug_noun_cue, owned_noun_cue, owns_noun, place_cue, roles_allowed,
                                    unread_noun, word_role)

HOW_MANY = re.compile(r"how many\b", re.IGNORECASE)
WHERE = re.compile(rf"(?:{ASKS_WHERE})\b", re.IGNORECASE)
NEGATED = re.compile(r"\b(?:not|never)\b|n't\b", re.IGNORECASE)
YES = "\x00yes"  # the key of a confirmed yes/no question among the scored targets (no entity id looks like it)
FEW = 3  # fewer direct answers than this: narrower entities' answers follow them
MAX_NARROWER_ANSWERS = 5  # at most so many answers from narrower entities
MAX_RELATIONS = 2  # a chain has one fact per relation asked, and at most two; further ones filter its answers


class _Scored(NamedTuple):
    """A target as a chain reaches it: the chain's score (its facts' confidences multiplied), its facts, and the
    narrower entities it came through, each with the facts of its chain."""
    score: float
    chain: list[Triple]
    through: tuple[Via, ...] = ()

    def then(self, fact: Triple, via: Entity | None = None) -> _Scored:
        """The chain one fact longer (``via``: the narrower entity that fact came through)."""
        return _Scored(self.score * fact.confidence, [*self.chain, fact],
                       (*self.through, (via, [fact])) if via else self.through)


Ranked = list[tuple[str, _Scored]]  # scored targets, best first


def _best_first(scored: Iterable[tuple[str, _Scored]]) -> Ranked:
    """Scored targets, best first."""
    return sorted(scored, key=lambda kv: -kv[1].score)


def _fitting(le: LinkedEntity, cues: list[Cue], schema: Schema) -> LinkedEntity:
    """Of the entities a question's name fits ("Mercury": the metal and the firm), one whose type the asked
    relations take ("Where is Mercury headquartered?": the firm)."""
    if len(le.named) < 2 or not cues:
        return le
    fits = [e for e in le.named if any(roles_allowed(schema, c.relation, e.type) for c in cues)]
    return replace(le, entity=fits[0]) if fits and le.entity not in fits else le


def _hop(store: GraphStore, entity_id: str, kind: str, relation: str, preferred: str,
         schema: Schema, strict: bool = False) -> list[tuple[str, Triple]]:
    """(other entity id, fact) pairs one ``relation`` hop away, in the direction the question asks. Where the
    entity's type allows one direction only, that one is taken ("What does bleeding cause?" reads as "what causes
    bleeding"), unless ``strict`` (a yes/no question: "Does bleeding cause warfarin?" is not confirmed by
    "warfarin causes bleeding"). A symmetric relation, or one of ``READ_BOTH_WAYS`` (an association): either
    direction."""
    allowed = roles_allowed(schema, relation, kind)
    rel = schema.get(relation)
    if not allowed:
        return []
    if rel.symmetric or relation in READ_BOTH_WAYS:
        roles = allowed
    elif strict:
        roles = [preferred] if preferred in allowed else []
    else:
        roles = allowed if len(allowed) == 1 else [preferred]
    out = []
    for t in store.neighbours(entity_id, hops=1, relation=relation):
        if "head" in roles and t.head_id == entity_id:
            out.append((t.tail_id, t))
        elif "tail" in roles and t.tail_id == entity_id:
            out.append((t.head_id, t))
    return out


def answer(store: GraphStore, question: str, schema: Schema | None = None, limit: int = 10) -> QAResult:
    """Answers from the graph, best first, each with the facts and sentences behind it. A compound question ("Who
    makes metformin and where are they based?", "What do aspirin and warfarin treat?") is answered part by part:
    ``parts`` holds each part's result (a pronoun read as the previous part's answer or subject) and ``answers``
    all their answers in order."""
    schema = schema or Schema()
    question = " ".join(question.split())
    if not question:
        raise NLPError("The question is empty.")
    store = searched_once(store)  # the question's phrases, its parts' and its narrower terms' share their lookups
    linked = link_question(store, question)
    if not linked:
        raise NLPError(f"No known entity in the question '{question}'. Check the spelling or ingest documents about it.")
    parts = split_question(question, _spans(linked))
    if len(parts) == 1:
        return _answer_one(store, question, linked, schema, limit)

    def answer_one(text: str, named: list[LinkedEntity], exclude: frozenset[str] | None) -> QAResult:
        return _answer_one(store, text, named, schema, limit, exclude)

    return answer_parts(question, parts, PartAnswers(store, schema, answer_one))


def _spans(linked: list[LinkedEntity]) -> list[Span]:
    """Where the question names its entities, with their types and ids."""
    return [(le.start, le.end, le.entity.type, le.entity.id) for le in linked]


def _answer_one(store: GraphStore, question: str, linked: list[LinkedEntity], schema: Schema,
                limit: int, exclude: frozenset[str] | None = None) -> QAResult:
    """The answers to a question that asks one thing, none of ``exclude`` (the ids "else" leaves out: what the
    previous part named or answered; None where there is no previous part)."""
    yes_no = bool(YES_NO.match(question.lower()))
    every = all_cues(question, [(le.start, le.end) for le in linked])
    cues = [c for c in named_twice(question, linked, every) if c.relation in schema.names()
            and not (yes_no and re.fullmatch(NOT_YES_NO, question[c.start:c.end].lower()))]
    if "SUBSIDIARY_OF" in schema.names():
        cues = owned_noun_cue(question, linked, cues)
    cues = drug_noun_cue(question, linked, place_cue(question, linked, schema, cues), schema)
    relations = tuple(c.relation for c in cues)
    linked = [_fitting(le, cues, schema) for le in linked]
    names = NameCache(store)
    conditions = ((read_yes_no if yes_no else read_conditions)(question, linked, cues)
                  if len(cues) > MAX_RELATIONS else None)
    if (NEGATED.search(re.sub(ASKED_NEGATION, " ", question, flags=re.IGNORECASE))
            or (len(cues) > MAX_RELATIONS and conditions is None) or unread_noun(question, linked, cues)):
        # "Does X not cause Y?": a fact that it does is no "yes"; "What doesn't Northwind make?": the graph lists
        # what things do, not what they don't. A chain read for two of three relations where the third is no
        # condition it can check answers another question, as does one past a noun the reading does not know
        # ("Which Acme plant is based in Bergen?": Oslo, where Acme is)
        return QAResult(question, (), tuple(linked), relations)
    if not cues and not yes_no and len(linked) == 1 and ABOUT.fullmatch(without_entity(question, linked[0])):
        term = linked[0].entity
        about = (describe_term(store, term, linked[0].narrower, names) if term.id.startswith(BROAD)
                 else describe(store, term, names))
        return QAResult(question, (about,), tuple(linked), relations)
    reading = _Reading(question, schema, yes_no, frozenset(le.entity.id for le in linked),
                       _places(question, schema, yes_no), frozenset(le.end for le in linked))
    ranked = (_targets(store, linked, cues, reading, exclude) if conditions is None
              else _confirmed(store, conditions, reading) if yes_no
              else _meeting_all(store, conditions, reading, exclude))
    ranked = ranked if _counts(reading) else _capped(ranked)  # after every condition: none that meets them is cut
    if ranked and _counts(reading):  # the count of what the graph holds, each one's source
        evidence = tuple(ev for _, scored in ranked for ev in evidence_of(scored.chain, names)[:1])
        vias = list(dict.fromkeys(via.name for _, scored in ranked for via, _ in scored.through))
        text = str(len(ranked)) + (f" (via {', '.join(vias)})" if vias else "")
        count = Answer(text, round(min(scored.score for _, scored in ranked), 4), None, evidence)
        return QAResult(question, (count,), tuple(linked), relations)
    answers = [_answer_of(target, scored, names, schema) for target, scored in ranked[:limit]]
    return QAResult(question, tuple(answers), tuple(linked), relations)


def _answer_of(target: str, scored: _Scored, names: NameCache, schema: Schema) -> Answer:
    """A scored target as an answer, marked with the narrower entities it came through (``via``: the first;
    ``via_all``: each, "both X and Y" through two)."""
    vias = tuple(dict.fromkeys((via.id, via.name) for via, _ in scored.through))
    return Answer(marked_via("yes" if target == YES else names(target), scored.through, schema),
                  round(scored.score, 4), None if target == YES else target, evidence_of(scored.chain, names), vias)


def _targets(store: GraphStore, linked: list[LinkedEntity], cues: list[Cue], reading: _Reading,
             exclude: frozenset[str] | None) -> Ranked:
    """The scored targets of a question, best first, none of ``exclude``: those of its entities, or of each of a
    "both X and Y" list ("Which drugs treat both diabetes and cancer?"), that all of them reach. Not capped: the
    caller keeps at most ``MAX_NARROWER_ANSWERS`` of those that came through narrower entities (:func:`_capped`)
    once every condition has filtered them."""
    beyond = (exclude is None and not reading.yes_no and bool(ELSE.search(reading.question))
              and not _comes_back(store, linked, cues, reading))
    exclude = exclude or frozenset()
    each = _each_of(reading.question, linked) if not reading.yes_no else []
    if each:
        ranked = _common([_own_or_narrower(store, [le], cues, reading, exclude, beyond) for le in each])
    else:
        ranked = _own_or_narrower(store, linked, cues, reading, exclude, beyond)
    return ranked


def _comes_back(store: GraphStore, linked: list[LinkedEntity], cues: list[Cue], reading: _Reading) -> bool:
    """Does a chain from one of the question's names come back to it ("What else does the company that makes
    warfarin make?": warfarin)? Then the name is of the kind the question asks for, and "else" leaves it out (no
    answer is one of the question's names), not the direct answers."""
    return any(target == le.entity.id for le in linked for target, _ in _chains(store, le, cues, reading))


def _meeting_all(store: GraphStore, conditions: Conditions, reading: _Reading,
                 exclude: frozenset[str] | None) -> Ranked:
    """The scored targets of a question with more than two relations, best first: those a chain of two of them
    reaches (what meets both their conditions), the ones of them that meet each further condition too; where the
    question asks for something else than that ("Who is the CEO of the company based in Bergen that Acme
    acquired?"), what the outer relation reaches from them, none of ``exclude``."""
    outer = conditions.outer
    base = replace(reading, places=None) if outer else reading  # "Where is the firm ...": the firm is no place
    # ``exclude`` (answers given before) filters what the question asks for: with an outer relation that is what
    # it reaches from these targets (``_beyond``), so no target is excluded here; None (nothing given) stays None,
    # which lets ``_targets`` read an "else" in the question
    inner_exclude = exclude if outer is None or exclude is None else frozenset()
    ranked = _targets(store, conditions.linked, conditions.cues, base, inner_exclude)
    for cue, le in conditions.further:
        ranked = _also_meeting(store, ranked, cue, le, reading)
    if outer is None:
        return ranked
    return _beyond(store, ranked, outer, conditions.cues[0], reading, exclude or frozenset())


def _confirmed(store: GraphStore, conditions: Conditions, reading: _Reading) -> Ranked:
    """A yes/no question with more than two relations confirmed: "yes" where what its conditions meet is the name
    it asks about ("Is Bo Lind the CEO of the Acme unit based in Bergen?"), or anything where it asks about none
    ("Is the Acme unit based in Bergen run by Bo Lind?"), scored and shown with the best such chain; else none."""
    asked = conditions.asked
    meeting = replace(reading, yes_no=False,
                      in_question=reading.in_question - {asked.entity.id} if asked else reading.in_question)
    ranked = _meeting_all(store, conditions, meeting, None)
    hits = [scored for target, scored in ranked if asked is None or target == asked.entity.id]
    return [(YES, hits[0])] if hits else []


def _also_meeting(store: GraphStore, ranked: Ranked, cue: Cue, le: LinkedEntity, reading: _Reading) -> Ranked:
    """Those of ``ranked`` that stand in the cue's relation to ``le`` ("... is run by Bo Lind"), or where they do
    not, to one of its narrower entities ("... treats diabetes": type 2 diabetes), best first, each scored with
    that fact too and showing it (and marked with the narrower entity it came through)."""
    facts = _standing_in(store, cue, le, reading)
    return _best_first((target, scored.then(*facts[target])) for target, scored in ranked if target in facts)


def _standing_in(store: GraphStore, cue: Cue, le: LinkedEntity,
                 reading: _Reading) -> dict[str, tuple[Triple, Entity | None]]:
    """What stands in the cue's relation to ``le``, each with its fact: ``le``'s own where it has one (of two, the
    surer), else one of its narrower entities' (with that entity; a term the graph has no entity for has only
    those)."""
    role = word_role(reading.question, cue, le.start, le.end)
    own = [] if le.entity.id.startswith(BROAD) else [(le.entity, None)]
    facts: dict[str, tuple[Triple, Entity | None]] = {}
    for entity, via in own + [(n, n) for _, n in _narrower_anchors(store, [le])]:
        for target, fact in sorted(_hop(store, entity.id, entity.type, cue.relation, role, reading.schema),
                                   key=lambda pair: -pair[1].confidence):
            facts.setdefault(target, (fact, via))
    return facts


def _beyond(store: GraphStore, ranked: Ranked, outer: Cue, inner: Cue, reading: _Reading,
            exclude: frozenset[str]) -> Ranked:
    """What the ``outer`` cue's relation reaches from each of ``ranked`` (the CEO of each company the conditions
    meet; ``inner``, the first of their cues, says where that company stands), best first, none of the question's
    entities or ``exclude``, each scored and shown with its chain and that fact."""
    role = word_role(reading.question, outer, _middle_at(reading.question, inner, outer, reading.ends))
    best: dict[str, _Scored] = {}
    for middle, from_middle in ranked:
        ent = store.entity(middle)
        for other, fact in _hop(store, middle, ent.type, outer.relation, role, reading.schema) if ent else []:
            scored = from_middle.then(fact)
            if (other not in reading.in_question and other not in exclude and _fits_places(store, other, reading)
                    and (other not in best or best[other].score < scored.score)):
                best[other] = scored
    return _best_first(best.items())


def _counts(reading: _Reading) -> bool:
    """Does the question ask how many?"""
    return not reading.yes_no and bool(HOW_MANY.match(reading.question))


def _own_or_narrower(store: GraphStore, linked: list[LinkedEntity], cues: list[Cue], reading: _Reading,
                     exclude: frozenset[str], beyond: bool) -> Ranked:
    """The scored targets of ``linked``, best first, none of ``exclude``: their own, and where they are few, those
    of their narrower entities after them; ``beyond`` ("What else treats diabetes?" as a question of its own, beyond
    the direct answers): the narrower entities' alone."""
    ranked, met = _ranked(store, [(le, None) for le in linked if not le.entity.id.startswith(BROAD)], cues, reading,
                          skip=exclude)
    if beyond or len(ranked) < (1 if reading.yes_no or _counts(reading) else FEW):
        # few facts about the entity itself: those of its narrower kinds after them (instead of them where only
        # theirs meet both conditions: "Which diabetes drugs cause pancreatitis?")
        more, more_met = _ranked(store, _narrower_anchors(store, linked), cues, reading,
                                 skip=exclude | {t for t, _ in ranked})
        if beyond:
            return more
        ranked = (ranked if met or not more_met else []) + more
    return ranked


def _capped(ranked: Ranked) -> Ranked:
    """``ranked`` with at most ``MAX_NARROWER_ANSWERS`` of the targets that came through narrower entities."""
    kept = set([target for target, scored in ranked if scored.through][:MAX_NARROWER_ANSWERS])
    return [(target, scored) for target, scored in ranked if not scored.through or target in kept]


@dataclass(frozen=True)
class _Reading:
    """What a question asks, as chains are scored against it."""
    question: str
    schema: Schema
    yes_no: bool
    in_question: frozenset[str]
    places: frozenset[str] | None
    ends: frozenset[int]  # where the question's names end (one right before a noun may own it)




def _ranked(store: GraphStore, anchors: list[tuple[LinkedEntity, Entity | None]], cues: list[Cue],
            reading: _Reading, skip: frozenset[str] | set[str] = frozenset()) -> tuple[Ranked, bool]:
    """The targets the anchors' chains reach, best first, each with its best score, chain and the narrower entity
    it came from with that chain (none: the question's own), a target in ``skip`` left out; and whether they are
    those between two of the question's entities."""
    scored: dict[str, _Scored] = {}
    meeting: dict[str, _Scored] = {}  # middles of chains between two of the question's entities
    for anchor, via in anchors:
        for target, facts in _chains(store, anchor, cues, reading):
            into = scored
            if not reading.yes_no and len(facts) == 2 and target in reading.in_question and target != anchor.entity.id:
                # "Which drugs made by Corvane cause bleeding?": two facts that link two of its entities through a
                # third, which meets both conditions and is what the question asks for (before any chain that
                # leaves one of its entities out)
                target, into = other_end(facts[0], anchor.entity.id), meeting
                if target in reading.in_question:
                    continue
            # A yes/no question is confirmed by a chain that ends at another of its entities ("Does metformin
            # treat T2D?"); other questions ask for what the chain reaches beyond them.
            elif (target in reading.in_question) != reading.yes_no or target == anchor.entity.id:
                continue
            elif len(facts) == 2 and len(reading.in_question) > 1 and not reading.yes_no:
                # two conditions, each on one named entity, that no entity meets: what a chain from one reaches past
                # the other condition is no answer ("Which subsidiary of Corvane is based in Zürich?": not Basel)
                continue
            if not _fits_places(store, target, reading):
                continue  # "Where is Zürich?" asks for a place, not for the firm based there
            score = 1.0
            for f in facts:
                score *= f.confidence
            key = YES if reading.yes_no else target
            best = into.get(key)
            if key not in skip and (best is None or best.score < score):
                into[key] = _Scored(score, facts, ((via, facts),) if via else ())
    return _best_first((meeting or scored).items()), bool(meeting)


def _fits_places(store: GraphStore, target: str, reading: _Reading) -> bool:
    """May ``target`` answer the question: a place where it asks where, anything else otherwise?"""
    return reading.places is None or getattr(store.entity(target), "type", None) in reading.places


def _each_of(question: str, linked: list[LinkedEntity]) -> list[LinkedEntity]:
    """The entities of a "both X and Y" list ("Which drugs interact with both aspirin and warfarin?"), else none."""
    run = first_list(question, _spans(linked))
    if run is None or not BOTH.search(question[: run[0][0]]):
        return []
    return [le for le in linked if any(le.start == a for a, *_ in run)]


def _common(ranked: list[Ranked]) -> Ranked:
    """The targets in every one of ``ranked`` (each entity's of a "both X and Y" list), best first, scored by the
    weakest of their chains, with all of them as the evidence and every narrower entity they came through."""
    reached = [dict(r) for r in ranked]
    return _best_first((target, _Scored(min(r[target].score for r in reached),
                                        [f for r in reached for f in r[target].chain],
                                        tuple(v for r in reached for v in r[target].through)))
                       for target in reached[0] if all(target in r for r in reached[1:]))


def _narrower_anchors(store: GraphStore, linked: list[LinkedEntity]) -> list[tuple[LinkedEntity, Entity]]:
    """Each question entity's narrower entities (those a term the graph has no entity for was linked with),
    standing where it stands in the question."""
    return [(replace(le, entity=n, named=(n,), narrower=()), n) for le in linked
            for n in (le.narrower if le.entity.id.startswith(BROAD) else narrower_entities(store, le.entity))]


def _places(question: str, schema: Schema, yes_no: bool) -> frozenset[str] | None:
    """The entity types a "where" question's answer may have (those a firm is headquartered in), else None."""
    if yes_no or not WHERE.match(question) or "HEADQUARTERED_IN" not in schema.names():
        return None
    return frozenset(schema.get("HEADQUARTERED_IN").tail_types)


_OF_SUBJECT = re.compile(r"\s+of\s+[^,;?]+?\s+(?:is|are|was|were)\s+", re.IGNORECASE)
_IS = re.compile(r"\s+(?:is|are|was|were)\s+", re.IGNORECASE)


def _middle_at(question: str, first: Cue, second: Cue, ends: frozenset[int]) -> int:
    """Where the middle of a chain stands in the question: where its noun phrase ("the company") is, before the
    inner cue; or the outer cue's noun itself where "NOUN of X is", or "X NOUN is" with a name of the question
    (ending at one of ``ends``) that owns the noun, comes before the inner cue ("Which subsidiary of Corvane is based
    in Basel?", "Which Corvane subsidiary is based in Basel?": the firm based in Basel is the subsidiary, not
    Corvane's parent)."""
    if second.end <= first.start and (
            _OF_SUBJECT.fullmatch(question, second.end, first.start)
            or (_IS.fullmatch(question, second.end, first.start)
                and any(owns_noun(question, second, end) for end in ends))):
        return second.start
    return first.start


def _chains(store: GraphStore, anchor: LinkedEntity, cues: list[Cue],
            reading: _Reading) -> list[tuple[str, list[Triple]]]:
    """One hop for one cue; two hops when the question names two relations ("CEO of the company that
    acquired X": first the cue nearest the entity, then the other); each chain with the entity it reaches."""
    if not cues:
        return []
    question, schema, strict = reading.question, reading.schema, reading.yes_no
    # a relation the anchor's type can take first ("Where is metformin made?": made by a firm, then where it is),
    # then the cue whose object the anchor is ("Which subsidiary of Corvane is based in Basel?": Corvane is the
    # subsidiary's, though "based" starts nearer it), then the nearest
    ordered = sorted(cues, key=lambda c: (not roles_allowed(schema, c.relation, anchor.entity.type),
                                          not object_of(question, c, anchor, cues), abs(c.start - anchor.start)))
    first = ordered[0]
    hop1 = _hop(store, anchor.entity.id, anchor.entity.type, first.relation,
                word_role(question, first, anchor.start, anchor.end), schema, strict)
    if len(ordered) == 1:
        return [(other, [fact]) for other, fact in hop1]
    second = ordered[1]
    chains = []
    role = word_role(question, second, _middle_at(question, first, second, reading.ends))  # the same for every middle
    for middle, fact in hop1:
        ent = store.entity(middle)
        if ent is None:
            continue
        for other, fact2 in _hop(store, middle, ent.type, second.relation, role, schema, strict):
            chains.append((other, [fact, fact2]))
    return chains
