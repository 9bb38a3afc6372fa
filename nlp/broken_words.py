"""Words a PDF's layout broke at a line's end with a hyphen, joined again: with the hyphen when it is part of the word.

"treat-\\nment" is "treatment", but "first-\\nline" is "first-line" and "COVID-\\n19" is "COVID-19": the text
layer cannot tell a typesetter's hyphen from the word's own, so the document's own words decide, then the word's
parts.
"""
from __future__ import annotations

import re
from collections import Counter

# a word, a hyphen ending the line, the word going on at the start of the next
_BREAK = re.compile(r"\b([^\W_]+)-[ \t]*\n[ \t]*([^\W_]+)")
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
# prefixes that stay hyphenated before a word ("first-line", "long-term", "self-reported") unless what follows is
# only an ending ("higher", "lowest", "shortage", "secondary")
_FREE_PREFIXES = frozenset("first second high low long short well self".split())
_ENDINGS = frozenset("""er ers est ly ness ish age ages ary ed en ened ening ens ing ings ered ering""".split())
# prefixes that also start unbroken words ("antibody", "cohort", "previous", "postoperative"): hyphenated only before
# a word the document uses on its own ("non-small") or one starting with the vowel the prefix ends with
# ("anti-inflammatory", "pre-existing")
_BOUND_PREFIXES = frozenset("anti non co pre post".split())
_SUSPENDED = frozenset("and or nor to".split())  # "first- or second-line"


def join_broken_words(text: str) -> str:
    """``text`` with each word broken over a line by a hyphen joined again on the first line, keeping the hyphen when
    (first that applies): a part is a number or in capitals ("COVID-19", "IL-6", "T-cell", "Pfizer-BioNTech"); the
    document writes the word elsewhere more often hyphenated than whole ("first-line" / "firstline"); the first part
    is a prefix the word keeps (see ``_FREE_PREFIXES`` and ``_BOUND_PREFIXES``). Otherwise the hyphen was the line's.
    A hyphen left hanging before "and" or "or" ("pre- and postoperative") stays, with its space."""
    words = Counter(w.casefold() for w in _WORD.findall(_BREAK.sub(" ", text)))

    def join(match: re.Match) -> str:
        left, right = match.group(1), match.group(2)
        if right.casefold() in _SUSPENDED:  # "pre- and postoperative": the hyphen stands for a word that comes later
            return f"{left}- {right}"
        return f"{left}{'-' if _keeps_hyphen(left, right, words) else ''}{right}"

    return _BREAK.sub(join, text)


def _keeps_hyphen(left: str, right: str, words: Counter) -> bool:
    """Whether ``left-right`` (broken after the hyphen) is a hyphenated word rather than one word ``leftright``."""
    if (right[0].isupper() or right[0].isdigit() or left.isupper() or any(c.isupper() for c in left[1:])
            or any(c.isdigit() for c in left)):
        return True
    hyphenated, whole = words[f"{left}-{right}".casefold()], words[f"{left}{right}".casefold()]
    if hyphenated or whole:
        return hyphenated > whole
    prefix, rest = left.casefold(), right.casefold()
    if prefix in _FREE_PREFIXES:
        return rest not in _ENDINGS
    return prefix in _BOUND_PREFIXES and (words[rest] > 0 or prefix[-1] == rest[0])
