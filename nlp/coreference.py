"""Cheap reference resolution for relation extraction: "it", "its", "the company", "the drug"
point back to the salient entity of a fitting type, so "Its chief executive, Claire Dubois, ..."
still yields a fact. The pseudo-mentions feed relation layers only; they are never stored as NER.
"""
from __future__ import annotations

import re
from typing import Sequence

from kg.records import Mention
from nlp.interfaces import Sentence
from nlp.linking import OWN_NOUNS

_ORG_NOUNS = (r"company|firm|group|drugmaker|drug maker|lender|bank|manufacturer|insurer|start-?up|biotech|"
              r"acquirer|buyer|fund|investor|developer|supplier|maker|business|subsidiary|conglomerate")
# a filing's own name for its firm, capitalised ("The Group acquired ..."): nouns whose mention ``nlp.linking``
# drops undefined, so their facts go to the firm rather than nowhere; another party ("The Lender", "The Parent")
# is dropped too but is no reference to the firm: its facts are not the firm's
_FILING_NOUNS = "|".join(sorted((n.capitalize() for n in OWN_NOUNS), key=lambda n: (-len(n), n)))
_CHEM_NOUNS = r"drug|medication|medicine|agent|compound|antibiotic|statin|inhibitor"
# "The round was led by X": a funding round (or financing) that an earlier sentence says an organisation raised
_ROUND = re.compile(r"\b[Tt]he (?:[$€£]?[\w.-]+ ){0,3}?(?:round|financing|fundraising|raise)\b")
_FUNDING = re.compile(r"\b(?:raised|raises|raising|secured|secures|closed|closes|completed|completes|landed|lands)\b"
                      r".{0,80}?\b(?:funding|round|financing|million|billion|capital|investment|Series [A-H])\b")
_REFERENCES = (
    # "The Zürich-headquartered company ...": the noun after a place (a mention of its own) opening a sentence
    (re.compile(rf"(?:(?<=^)|(?<=[.!?] ))The [^,.;]{{1,40}}?-(?:based|headquartered) ((?:\w+ )?(?:{_ORG_NOUNS}))\b"),
     ("Organization",)),
    (re.compile(rf"\b[Tt]he (?:\w+[- ])?(?:{_ORG_NOUNS})\b|\b[Tt]he (?:{_FILING_NOUNS})\b(?! of\b)"),
     ("Organization",)),
    (re.compile(rf"\b[Tt]he (?:\w+ )?(?:{_CHEM_NOUNS})\b"), ("Chemical",)),
    (re.compile(r"\b(?:[Ii]ts?)\b"), ("Chemical", "Organization")),
)


def resolve_references(text: str, sentences: Sequence[Sentence], mentions: Sequence[Mention]) -> list[Mention]:
    """Pseudo-mentions for references, each carrying its antecedent's entity id and label."""
    linked = [m for m in mentions if m.entity_id]
    out: list[Mention] = []
    for match in _ROUND.finditer(text):  # before "the company" and the like, which would take its words
        a, b = match.span()
        if any(m.start < b and a < m.end for m in mentions):
            continue
        antecedent = _raiser(a, text, sentences, linked)
        if antecedent is not None:
            out.append(Mention(a, b, match.group(0), antecedent.label, antecedent.entity_id, 0.8))
    starts = {m.start for m in mentions}
    for regex, kinds in _REFERENCES:
        for match in regex.finditer(text):
            a, b = match.span(match.lastindex or 0)
            if any(m.start < b and a < m.end for m in (*mentions, *out)):
                continue
            if match.group(0)[:1] in "Tt" and _names_one(text, b, starts):
                continue
            antecedent = _antecedent(a, sentences, linked, kinds)
            if antecedent is not None:
                out.append(Mention(a, b, match.group(0), antecedent.label, antecedent.entity_id, 0.8))
    return sorted(out, key=lambda m: m.start)


# words that may follow a reference ("The drug is", "the company also", "The firm said"); any other lower-case word
# not ending like a verb ("-s", "-ed") or an adverb ("-ly") is a name the noun introduces ("The antibiotic
# trimethoprim interacts with ...")
_GOES_ON = re.compile(r"(?:is|are|was|were|be|been|being|has|have|had|can|could|may|might|must|shall|should|will|"
                      r"would|does|do|did|also|often|still|now|then|later|only|usually|typically|rarely|sometimes|"
                      r"however|already|mainly|not|never|of|for|in|on|at|by|with|from|to|into|after|before|during|"
                      r"against|among|as|than|and|or|but|which|that|who|whose|while|itself|said|made|sold|took|grew|"
                      r"became|won|led|bought|cut|set|put|saw|hit|kept|gave|got|paid|sent|spent|began|rose|fell|"
                      r"agreed)\b|.*(?:s|ed|ly)\b")
_NEXT = re.compile(r"[ \t]+([a-z][\w-]*)\b|[ \t]+(?=\S)")


def _names_one(text: str, end: int, starts: set[int]) -> bool:
    """"The company Beta Sensors ...", "the antibiotic trimethoprim ...": the noun phrase ending at ``end`` goes on
    with a name (a mention, or a lower-case word that is no verb, adverb or function word), so it introduces
    that name rather than pointing back to an earlier one."""
    hit = _NEXT.match(text, end)
    if hit is None:
        return False
    if hit.end() in starts or hit.start(1) in starts:
        return True
    return hit.group(1) is not None and not _GOES_ON.fullmatch(hit.group(1))


def _antecedent(at: int, sentences: Sequence[Sentence], linked: Sequence[Mention],
                kinds: tuple[str, ...]) -> Mention | None:
    idx = next((i for i, s in enumerate(sentences) if s.start <= at < s.end), None)
    if idx is None:
        return None
    here = sentences[idx]
    fits = [m for m in linked if m.label in kinds]
    before_here = [m for m in fits if here.start <= m.start and m.end <= at]
    if before_here:
        return before_here[0]  # the subject-like first mention of this sentence
    for prev in reversed(sentences[:idx]):
        in_prev = [m for m in fits if prev.start <= m.start and m.end <= prev.end]
        if in_prev:
            return in_prev[0]
    return None


def _raiser(at: int, text: str, sentences: Sequence[Sentence], linked: Sequence[Mention]) -> Mention | None:
    """The organisation that raised money in the nearest sentence up to ``at`` that says so (this sentence
    or the two before it): the first organisation of that sentence."""
    idx = next((i for i, s in enumerate(sentences) if s.start <= at < s.end), None)
    if idx is None:
        return None
    for k in range(idx, max(-1, idx - 3), -1):
        sent = sentences[k]
        end = min(sent.end, at)
        if not _FUNDING.search(text, sent.start, end):
            continue
        orgs = [m for m in linked if m.label == "Organization" and sent.start <= m.start and m.end <= end]
        return orgs[0] if orgs else None
    return None


def is_round_reference(mention: Mention) -> bool:
    """True for a pseudo-mention of a funding round ("the round", "the Series B financing")."""
    return _ROUND.fullmatch(mention.text) is not None


def is_reference(mention: Mention) -> bool:
    """True for the pseudo-mentions made here ("it", "its", "the company")."""
    first = mention.text.split()[0].lower() if mention.text.split() else ""
    return first in {"it", "its", "the"}
