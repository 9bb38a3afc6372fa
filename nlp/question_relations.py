"""The relations a question asks about: the cue words in it ("makes", "side effects of", a place after "in") and
the role, head or tail, that each entity named in it plays by word order ("Who makes metformin?": metformin is
the tail of MANUFACTURES; "Which company is owned by Corvane?": Corvane is the tail of SUBSIDIARY_OF)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kg.names import is_corporate_suffix
from kg.schema import Schema, fits_type
from nlp.question_cues import (ASKS_WHERE, CUES, FIRM_PLACE_NOUNS, JOB_NOUNS, OF_NOUNS, OWNED_NOUN_CUES, PASSIVE_AUX,
                                PASSIVE_BY, has_cue)
from nlp.question_links import LinkedEntity


@dataclass(frozen=True)
class Cue:
    """A relation word in a question: the relation, where it stands, and whether it names the head from the
    tail's side (``question_cues``)."""
    relation: str
    start: int
    end: int
    inverted: bool


def find_cues(question: str, masked: list[tuple[int, int]]) -> list[Cue]:
    """Relation cues in the question, outside the entity spans, in order of appearance, the first of each relation
    ("where is X headquartered" names one relation twice)."""
    return first_of_each(all_cues(question, masked))


_WORD_REST = re.compile(r"\w*")


def all_cues(question: str, masked: list[tuple[int, int]]) -> list[Cue]:
    """Relation cues in the question, outside the entity spans, in order of appearance, a relation as often as it is
    named."""
    text = question.lower()
    cues: list[Cue] = []
    taken = list(masked)
    for pattern, relation, inverted in CUES:
        for m in re.finditer(pattern, text):
            # to the end of its word: "acquir(?:e|ed)" matches "acquire" in "acquired", and "acquired Bramble" is
            # the cue, a space and its object
            end = m.end() + len(_WORD_REST.match(text, m.end()).group()) if text[m.end() - 1].isalnum() else m.end()
            if any(m.start() < y and x < end for x, y in taken):
                continue
            taken.append((m.start(), end))
            cues.append(Cue(relation, m.start(), end, inverted))
    return sorted(cues, key=lambda c: c.start)


def first_of_each(cues: list[Cue]) -> list[Cue]:
    """The first of ``cues`` of each relation, in order."""
    seen: set[str] = set()
    return [c for c in cues if not (c.relation in seen or seen.add(c.relation))]


# "Corvane's subsidiaries", "Meridale Labs' parent company": the entity owns the cue's noun, as in "the
# subsidiaries of Corvane", so it stands where a name after the cue would
_POSSESSOR = re.compile(r"['\u2019]s?\s+(?:[a-z][\w-]*\s+){0,2}$", re.IGNORECASE)
_OWN_OF = re.compile(r"\s+of\b", re.IGNORECASE)
_JOB_AT = re.compile(r"\s+(?:at|for)\b", re.IGNORECASE)  # "CEO at Corvane", "CEO for Corvane": a job's "of"


def owns_noun(question: str, cue: Cue, end: int | None) -> bool:
    """Does the entity ending at ``end`` own the cue's noun, as its "of" would: a possessive ("Corvane's
    subsidiary") or the name right before it ("Corvane subsidiary", "warfarin side effects") where the noun has no
    "of" of its own ("Is Lukas Brunner CEO of Corvane?", a job's "... CEO at Corvane?": Brunner is the CEO)?"""
    noun = question[cue.start:cue.end].lower()
    if end is None or end > cue.start or not re.fullmatch(OF_NOUNS, noun):
        return False
    gap = question[end:cue.start]
    own_of = _OWN_OF.match(question, cue.end) or (re.fullmatch(JOB_NOUNS, noun) and _JOB_AT.match(question, cue.end))
    return bool(_POSSESSOR.match(gap)) or (gap.isspace() and not own_of)


def word_role(question: str, cue: Cue, at: int, end: int | None = None) -> str:
    """Is the entity at ``at`` (ending at ``end``) the head or the tail of the cue's relation, by word order?"""
    if owns_noun(question, cue, end):
        at = cue.end
    after = question[cue.end :]
    before = question[: cue.start]
    aux = bool(re.search(PASSIVE_AUX, before.lower()) or re.match(r"(?:is|are|was|were)\b", before.lower()))
    participle = question[cue.start : cue.end].lower().endswith("ed")  # "Is T2D treated with metformin?"
    passive = bool(re.match(PASSIVE_BY, after.lower())) or (at < cue.start and aux and (
        " by" in after.lower() or (participle and bool(re.match(r"\s*with\b", after.lower())))))
    role = "tail" if at > cue.start else "head"
    if passive:
        role = "head" if role == "tail" else "tail"
    if cue.inverted:
        role = "head" if role == "tail" else "tail"
    return role


def roles_allowed(schema: Schema, relation: str, kind: str) -> list[str]:
    """The roles ("head", "tail") an entity of type ``kind`` may take in ``relation``'s facts."""
    rel = schema.get(relation)
    return [role for role, types in (("head", rel.head_types), ("tail", rel.tail_types)) if fits_type(kind, types)]


_IN_PLACE = re.compile(r"\b(in|from)\s+(?:the\s+)?$", re.IGNORECASE)
_IS_IN_PLACE = re.compile(r"\b(?:is|are|was|were)\s+(in|from)\s+(?:the\s+)?$", re.IGNORECASE)


def place_cue(question: str, linked: list[LinkedEntity], schema: Schema, cues: list[Cue]) -> list[Cue]:
    """``cues`` and, where they ask no place, a place named after "in"/"from" ("Which companies are in Basel?", "Is
    Corvane from Zürich?"): the question asks where firms are based. Beside other cues only after "is in" ("Which
    subsidiary of Corvane is in Basel?"; "Which drugs are made in Oslo?" asks no place)."""
    if "HEADQUARTERED_IN" not in schema.names() or any(c.relation == "HEADQUARTERED_IN" for c in cues):
        return cues
    places = schema.get("HEADQUARTERED_IN").tail_types
    pattern = _IS_IN_PLACE if cues else _IN_PLACE
    for le in linked:
        hit = pattern.search(question, 0, le.start)
        if hit and le.entity.type in places and not any(e.type not in places for e in le.named):
            return sorted([*cues, Cue("HEADQUARTERED_IN", hit.start(1), hit.end(1), False)], key=lambda c: c.start)
    return cues


# a possessive and up to two words ("Acme's Bergen unit"), or a space alone, then the noun
_OWNED_NOUNS = [(re.compile(rf"(?:['\u2019]s?\s+(?:[a-z][\w-]*\s+){{0,2}}?|\s+)({nouns})\b", re.IGNORECASE), relation)
                for nouns, relation in OWNED_NOUN_CUES]


def owned_noun_cue(question: str, linked: list[LinkedEntity], cues: list[Cue]) -> list[Cue]:
    """``cues`` and a noun of ``OWNED_NOUN_CUES`` that a name owns ("Which Acme unit is based in Bergen?": the unit
    of Acme, a SUBSIDIARY_OF cue where the noun stands), where the question does not already ask that relation."""
    asked = {c.relation for c in cues}
    for le in linked:
        for noun, relation in _OWNED_NOUNS:
            hit = noun.match(question, le.end)
            if hit and relation not in asked and not any(c.start < hit.end(1) and hit.start(1) < c.end for c in cues):
                return sorted([*cues, Cue(relation, hit.start(1), hit.end(1), False)], key=lambda c: c.start)
    return cues


# a name, then one or two words and the verb of the question ("Which Acme plant is based in Bergen?"), or the end of
# it after a subject and "is a" ("Which firm in Bergen is an Acme plant?") or a question word and "is" ("Where is the
# Acme plant?"): the name owns the noun phrase, which is what the question asks about
_NOUN_SUBJECT = re.compile(r"(?:['\u2019]s?)?\s+((?:[a-z][\w-]*\s+)?[a-z][\w-]*)\s+(?:is|are|was|were)\b",
                           re.IGNORECASE)
_NOUN_LAST = re.compile(r"(?:['\u2019]s?)?\s+((?:[a-z][\w-]*\s+)?[a-z][\w-]*)\s*[?.!]?\s*$", re.IGNORECASE)
_AFTER_IS = re.compile(r"\S+\s+\S+\s+(?:is|are|was|were)\s+(?:an?|the)\s+$", re.IGNORECASE)
_ASKED_IS = re.compile(rf"({ASKS_WHERE}|what|who|which)\s+(?:is|are|was|were)\s+(?:(?:an?|the)\s+)?", re.IGNORECASE)
_NOT_NOUNS = frozenset("""and or but nor that which who whom whose where when how why also now still then not never
has have had does do did itself themselves it they there here today currently presently nowadays""".split())
_PREPOSITIONS = frozenset("of by in from with for to against at on about as".split())
# a word that names what stands before it ("What is the Acme CEO called?"), and nouns a firm is besides its
# corporate suffixes ("the Acme company", "Acme Robotics Inc"): the firm itself, no other noun it owns
_NAMING_VERBS = frozenset("called named known".split())
_FIRM_ITSELF = frozenset("firm business enterprise".split())
_ASKS_FOR = re.compile(r"\b(?:which|what|how\s+many)\s+$", re.IGNORECASE)


def unread_noun(question: str, linked: list[LinkedEntity], cues: list[Cue]) -> bool:
    """Does a name own a noun that no cue reads ("Which Acme plant is based in Bergen?", "Where is the Acme
    plant?")? Then the question asks about something the name stands in a relation to that the reading does not
    know: neither the name's own facts ("Acme is based in Oslo") nor the other condition alone (any firm based in
    Bergen) answer it. Where the firm is answers where its office is ("Where is the Acme office?")."""
    read = [(c.start, c.end) for c in cues] + [(o.start, o.end) for o in linked]
    for le in linked:
        owned = _owned_noun(question, le)
        if owned is None:
            continue
        (start, end), where = owned
        # a word for the firm itself after "the Acme" ("Where is the Acme company based?"), never after a question
        # word or a possessive, where it asks for another firm ("Which Acme company is based in Bergen?", "Where is
        # Acme's company based?")
        firm = (le.entity.type == "Organization" and not _ASKS_FOR.search(question, 0, le.start)
                and question[le.end:le.end + 1] not in ("'", "\u2019"))
        if not all(_read_word(word, read, where, firm) for word in re.finditer(r"[\w-]+", question)
                   if start <= word.start() < end):
            return True
    return False


def _owned_noun(question: str, le: LinkedEntity) -> tuple[tuple[int, int], bool] | None:
    """Where the noun phrase the name owns stands, if it owns one (before the question's verb, or at its end after
    "is a" or a question word and "is"), and whether the question asks where it is ("Where is the Acme office?");
    None where it owns none, or where it is the firm's place."""
    hit = _NOUN_SUBJECT.match(question, le.end)
    asked = _ASKED_IS.fullmatch(question, 0, le.start)
    if hit is None and (asked or _AFTER_IS.search(question, 0, le.start)):
        hit = _NOUN_LAST.match(question, le.end)
    if hit is None or _NOT_NOUNS.intersection(hit.group(1).lower().split()):
        return None
    where = bool(asked) and bool(re.fullmatch(ASKS_WHERE, asked.group(1).lower()))
    return None if where and re.fullmatch(FIRM_PLACE_NOUNS, hit.group(1).lower()) else (hit.span(1), where)


def _read_word(word: re.Match[str], read: list[tuple[int, int]], where: bool, firm: bool) -> bool:
    """Is a word of a noun phrase a name owns read: a preposition ("associated with"), a naming verb ("called"),
    part of a cue or name, a cue word the reading left out as its relation's second cue ("Where is Acme based?"),
    where the question asks where, a word for the firm's place ("Where is the Acme office located?"), or where the
    name is a ``firm``'s, a word for the firm itself ("Where is the Acme company based?")?"""
    text = word.group().lower()
    return (text in _PREPOSITIONS or text in _NAMING_VERBS or any(x < word.end() and word.start() < y for x, y in read)
            or has_cue(text)
            or (where and bool(re.fullmatch(FIRM_PLACE_NOUNS, text)))
            or (firm and (text in _FIRM_ITSELF or is_corporate_suffix(text))))


_DRUG_NOUN = re.compile(r"(?:['\u2019]s?)?\s+(drugs?|medications?|medicines?)\b", re.IGNORECASE)  # "Northwind's drugs"
DRUG_TYPE = "Chemical"
# the relations a name before a drug noun reads as, in order: "cancer drugs" treat cancer, "Northwind drugs" are
# made by Northwind
DRUG_NOUN_RELATIONS = ("TREATS", "MANUFACTURES")


def drug_noun_cue(question: str, linked: list[LinkedEntity], cues: list[Cue], schema: Schema) -> list[Cue]:
    """"cancer drugs", "diabetes medications": the drugs that treat it, a TREATS cue where the noun stands ("What are
    the side effects of diabetes drugs?" asks about the drugs, not about what causes diabetes); "Northwind drugs":
    the drugs it makes ("Which Northwind drugs treat type 2 diabetes?"). The first of ``DRUG_NOUN_RELATIONS`` that
    the question does not already ask and that links a drug to the name's type; the name takes its end of the
    relation whatever the word order (the cue is inverted where that end is the tail)."""
    for le in linked:
        noun = _DRUG_NOUN.match(question, le.end)
        read = _drug_relation(schema, le.entity.type, {c.relation for c in cues}) if noun else None
        if noun and read:
            relation, inverted = read
            return sorted([*cues, Cue(relation, noun.start(1), noun.end(), inverted)], key=lambda c: c.start)
    return cues


def _drug_relation(schema: Schema, kind: str, asked: set[str]) -> tuple[str, bool] | None:
    """The first of ``DRUG_NOUN_RELATIONS`` in ``schema`` and not in ``asked`` that links a drug to a ``kind``, and
    whether the ``kind`` is its tail; else None."""
    for relation in DRUG_NOUN_RELATIONS:
        if relation in schema.names() and relation not in asked:
            ends, drug_ends = roles_allowed(schema, relation, kind), roles_allowed(schema, relation, DRUG_TYPE)
            if "tail" in ends and "head" in drug_ends:
                return relation, True
            if "head" in ends and "tail" in drug_ends:
                return relation, False
    return None
