"""Words in a question that say which relation it asks about.

Each cue: (regex, relation, inverted). ``inverted`` cues name the head from the tail's side
("the parent of X" asks for the tail of ``X SUBSIDIARY_OF ?``; "who owns X" likewise).
Longer cues are tried first, and a matched span is not reused by a shorter one.
"""
from __future__ import annotations

import re

# Words that ask for a place: "where", "which city" ("Which city is the Acme office in?" asks where Acme is)
ASKS_WHERE = r"where|(?:in\s+)?(?:which|what)\s+(?:cit(?:y|ies)|towns?|countr(?:y|ies)|places?|locations?)"
CUES: tuple[tuple[str, str, bool], ...] = (
    # inverted: "the side effects of warfarin" names the cause after the cue, as "the parent of X" names the child
    (r"side[- ]effects?|adverse (?:effects?|events?|reactions?)|toxicit(?:y|ies)", "CAUSES", True),
    (r"chief executive(?: officer)?|\bceos?\b|managing director|in charge of|at the helm of|\bbosse?s?\b|"
     r"\b(?:top |senior )?executives?\b", "CEO_OF", False),
    (rf"head(?:quarter(?:ed|s)?| office)|\bhq\b|\bbased\b|\blocated\b|\b(?:{ASKS_WHERE})\b", "HEADQUARTERED_IN",
     False),
    # "owns a 9% stake in" is an investment (the cue below), not ownership of the firm; "owned" names the owner as
    # "owns" does ("X is owned by Corvane": Corvane is the parent), but not in "a wholly owned subsidiary of Corvane",
    # whose "subsidiary" cue says who is the parent
    (r"parent(?: company| firm| group)?|\bown(?:s|ed)?\b(?!\s+subsidiar)(?!\s+(?:an?\s+|the\s+|its\s+)?(?:[\w.%-]+\s+){0,2}?"
     r"(?:stakes?|shares?|interests?|holdings?)\b)|\bown(?:er|ers)\b", "SUBSIDIARY_OF", True),
    (r"subsidiar(?:y|ies)|\bunits? of\b|\bdivisions? of\b", "SUBSIDIARY_OF", False),
    (r"risk factors?|associat(?:ed|ions?)|\blink(?:s|ed)?\b|correlat(?:ed|ions?)", "ASSOCIATED_WITH", False),
    (r"\bsymptoms?\b|\bsigns?\b|manifestations?", "ASSOCIATED_WITH", True),
    (r"\bpresent(?:s|ing)?(?: with)?\b|characteri[sz]ed by", "ASSOCIATED_WITH", False),
    (r"interact(?:s|ion|ions)?|combin(?:e|ed)|taken (?:together )?with|\bmix(?:ed)?\b", "INTERACTS_WITH", False),
    (r"treat(?:s|ed|ing|ment|ments)?|therap(?:y|ies)|\bcures?\b|medications? for|drugs? (?:for|against)|"
     r"prescribed|indicated|used (?:for|against|in)|\bmanages?\b", "TREATS", False),
    (r"\bcaus(?:e|es|ed|ing)\b|induc(?:e|es|ed|ing)|lead to|leads to|trigger(?:s|ed)?", "CAUSES", False),
    (r"manufactur(?:e|es|ed|er|ers)|\bmak(?:e|es|er|ers)\b|\bmade\b|produc(?:e|es|ed|er|ers)|\bmarkets?\b", "MANUFACTURES", False),
    (r"acquir(?:e|ed|es|ing)|acquisitions?|\bb(?:uy|uys|ought)\b|purchas(?:e|ed|es)|took over|taken over|takeovers?",
     "ACQUIRED", False),
    (r"invest(?:s|ed|ing|ment|ments|or|ors)?|\bback(?:ed|s|ers?)\b|\bfund(?:ed|s)\b|stakes?|\bshares? in\b|shareholders?",
     "INVESTED_IN", False),
    (r"partner(?:s|ed|ship|ships)?|collaborat(?:e|es|ed|ion|ions)|team(?:ed)? up|alliances?|work(?:s|ed)? with|"
     r"joint venture", "PARTNERED_WITH", False),
    (r"\blead(?:s|er)?\b|\bled\b|\bruns?\b|\bheads?\b|\bhead of\b", "CEO_OF", False),
)
# Relations whose facts a question reads from either end: an association is stored in the order its sentence named
# the two ("Dry mouth is closely associated with Sjögren's syndrome" and "Sjögren's syndrome presents with dry
# mouth" say one thing), so which end an entity is at tells nothing. Extraction is unchanged (unlike ``symmetric``
# in the schema, which also lets a fact be stored the other way round when only that order fits the types).
READ_BOTH_WAYS = frozenset({"ASSOCIATED_WITH"})
# Cue nouns whose owner is their "of" ("Corvane's subsidiaries" = "the subsidiaries of Corvane"), unlike action
# nouns, whose owner is the doer ("Northwind's acquisitions" = what Northwind acquired)
# Of those, the nouns of a job, whose "of" may be "at" or "for" too ("CEO at Corvane"; "subsidiaries at Basel" are
# a place's)
JOB_NOUNS = r"chief executive(?: officer)?|ceos?|bosse?s?|(?:top |senior )?executives?|managing director"
OF_NOUNS = (r"subsidiar(?:y|ies)|units?|divisions?|parent(?: company| firm| group)?|owners?|" + JOB_NOUNS +
            r"|head(?:quarters| office)?|hq|investors?|"
            r"backers?|shareholders?|symptoms?|signs?|manifestations?|side[- ]effects?|adverse (?:effects?|events?|reactions?)|toxicit(?:y|ies)|risk factors?|"
            r"makers?|manufacturers?|producers?")
# Nouns that are cues only right after a name that owns them ("Acme unit", "Acme's divisions": the units of Acme,
# as "unit of" is above); after no name, "unit" is as often a measure
OWNED_NOUN_CUES: tuple[tuple[str, str], ...] = ((r"units?|divisions?", "SUBSIDIARY_OF"),)
# Nouns a firm owns whose place is where the firm is: "Where is the Acme office?" asks where Acme is (not "Where is
# the Acme plant?": a firm's plant may be anywhere)
FIRM_PLACE_NOUNS = r"(?:(?:head|main|registered)\s+)?offices?|headquarters|hq|base"
# Cues a yes/no question cannot be confirmed by: "Can warfarin be combined with aspirin?" asks whether that is
# safe, and "warfarin INTERACTS_WITH aspirin" (read in "should not be combined with") is no "yes"
NOT_YES_NO = r"combin(?:e|ed)|taken (?:together )?with|\bmix(?:ed)?\b"
# a negation that is part of what the question asks ("What should warfarin not be combined with?": its interactions)
ASKED_NEGATION = r"(?:\b(?:not|never)\b|n't\b)(?=.*\bbe\s+(?:combined|taken|given|used|mixed)\s+(?:together\s+)?with\b)"
PASSIVE_BY = r"^\s*(?:by|from)\b"
PASSIVE_AUX = r"\b(?:is|are|was|were|been|be|being|get|got)\s*$"


_ANY_CUE = re.compile("|".join(f"(?:{pattern})" for pattern, _, _ in CUES))


def has_cue(text: str) -> bool:
    """Whether ``text`` (any case) holds a relation cue word of :data:`CUES`."""
    return _ANY_CUE.search(text.lower()) is not None
