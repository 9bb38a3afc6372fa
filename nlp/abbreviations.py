"""Abbreviation definitions in running text (Schwartz & Hearst 2003), and what they do to name matches.

"standard deviation (SD)" defines SD; so does "SD (standard deviation)", and a filing's defined term does too:
"Northwind Therapeutics, Inc. (the “Company”)" makes "the Company" Northwind Therapeutics. The long form is the
shortest stretch of the clause before the parenthesis whose characters hold the short form's letters and digits in
order, read right to left, the first one at a word start. :func:`relink_short_forms` is the rule both name
linkers (``nlp.gazetteer.Gazetteer``, ``fusion.context.NameLinker``) apply to their matches: in a text that
says "standard deviation (SD)", SD stops linking to sexual dysfunction, an alias in the graph.
"""
from __future__ import annotations

import functools

import re
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

# Reporting abbreviations whose letters are also graph aliases ("SD" is an alias of sexual dysfunction) but
# which abstracts use for statistics; none is a drug or a disease in practice. Not "SE": status epilepticus.
STATISTICAL = frozenset({"SD", "SEM", "CI", "OR", "aOR", "HR", "aHR", "RR", "IQR", "AUC", "ROC", "BMI", "NNT",
                         "SMD", "WMD"})

_PAREN = re.compile(r"\(([^()]{1,100})\)")
_CUT = re.compile(r"[;,]\s")  # a parenthesis holds "SF, other things" or "SF; ..."
_LONG_TOKENS = re.compile(r"[^\s\-]+")
_EDGES = re.compile(r"[\W_]*(.*?)[\W_]*$", re.DOTALL)
_LOOKBACK = 400  # characters before a parenthesis that can hold its long form (15 words at most)
# a filing's defined term: 'Northwind Therapeutics, Inc. (the “Company”)', 'Bramble Biologics (“Bramble”)'
_DEFINED_TERM = re.compile(r"(?:[Tt]he\s+)?[“\"]([A-Z][^“”\"()]{0,40}?)[”\"]")
# ... defines the name just before it: capitalised words (with "of", "and", "&" inside), a company suffix left out
_NAME_BEFORE = re.compile(r"(?:(?:The|A|An)[ \t]+)?"
                          r"([A-Z][\w.&'’-]*(?:[ \t]+(?:(?:of|and|&|for|the|de)[ \t]+)?[A-Z][\w.&'’-]*)*?)"
                          r"(?=(?:,?[ \t]+(?:Inc|Corp|Corporation|Co|Ltd|Limited|LLC|L\.?P|plc|PLC|N\.V|S\.A|AG|SE|GmbH)"
                          r"\.?)?[ \t,]*$)")

T = TypeVar("T")


@dataclass(frozen=True)
class Abbreviation:
    """A short form and its long form, with character offsets into the text."""

    short: str
    short_start: int
    long: str
    long_start: int

    @property
    def short_end(self) -> int:
        return self.short_start + len(self.short)

    @property
    def long_end(self) -> int:
        return self.long_start + len(self.long)

    @property
    def long_forms(self) -> tuple[str, ...]:
        """The long form, then its singular when it ends in a plural "s" ("levodopa-induced dyskinesias
        (LIDs)" is defined by a plural while graphs name the singular)."""
        last = self.long.rsplit(None, 1)[-1]
        if len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
            return self.long, self.long[:-1]
        return (self.long,)


def find_abbreviations(text: str) -> list[Abbreviation]:
    """Every definition of a short form in ``text``, in order of appearance: one regex pass over the
    parentheses, then Schwartz & Hearst's checks and backward character match on each."""
    found: list[Abbreviation] = []
    for m in _PAREN.finditer(text):
        inner, inner_start = _strip(m.group(1), m.start(1))
        term = _DEFINED_TERM.fullmatch(inner)
        if term:
            got = _defined_term(text, m.start(), term.group(1), inner_start + term.start(1))
            found += [got] if got else []
            continue
        cut = _CUT.search(inner)
        if cut:
            inner, inner_start = _strip(inner[:cut.start()], inner_start)
        short_inside, long_inside = _is_short_form(inner), len(inner.split(None, 1)) > 1
        if not (short_inside or long_inside):
            continue
        clause, clause_start = _clause(text, m.start())
        got = None
        if short_inside:  # "long form (SF)"
            got = _pair(inner, inner_start, clause, clause_start)
        if got is None and long_inside and clause:  # "SF (long form)": the word before, with a capital
            short = clause.rsplit(None, 1)[-1]
            if _is_short_form(short) and any(c.isupper() for c in short):
                got = _pair(short, clause_start + len(clause) - len(short), inner, inner_start)
        if got is not None:
            found.append(got)
    return found


def definitions(text: str) -> dict[str, Abbreviation]:
    """Short form -> its first definition in ``text`` (a definition is written with a parenthesis). The last few
    texts' are remembered: the gazetteer and the linker both ask for each document's."""
    return dict(_definitions(text)) if "(" in text else {}


@functools.lru_cache(maxsize=4)
def _definitions(text: str) -> tuple[tuple[str, Abbreviation], ...]:
    out: dict[str, Abbreviation] = {}
    for a in find_abbreviations(text):
        out.setdefault(a.short, a)
    return tuple(out.items())


def abbreviation_map(text: str) -> dict[str, str]:
    """Short form -> long form for the definitions in ``text`` (the first definition wins)."""
    return long_forms(definitions(text))


def long_forms(defined: dict[str, Abbreviation]) -> dict[str, str]:
    """Short form -> long form of definitions as :func:`definitions` gives them."""
    return {short: a.long for short, a in defined.items()}


def relink_short_forms(text: str, matches: Sequence[tuple[int, int, T]],
                       lookup: Callable[[Abbreviation], T | None]) -> Sequence[tuple[int, int, T]]:
    """The short-form rule a name linker applies to its matches in ``text``: ``(start, end, target)``, overlaps
    allowed, before the linker picks the longest.

    - A match whose text ``text`` defines as a short form links to what the long form links to
      (``lookup(definition)``, the linker's own name table), and is dropped when that is nothing;
    - a match of a :data:`STATISTICAL` abbreviation that ``text`` does not define is dropped;
    - other matches stay as they are.
    Every other whole-word occurrence of a defined short form whose long form links is added, so an acronym
    links even when it is no graph alias. Returns ``matches`` itself when nothing changes; definitions are
    looked for only when ``text`` holds a parenthesis.
    """
    defined = definitions(text)
    if not defined:
        if not any(text[a:b] in STATISTICAL for a, b, _ in matches):
            return matches
        return [m for m in matches if text[m[0]:m[1]] not in STATISTICAL]
    targets = {short: lookup(d) for short, d in defined.items()}
    out: list[tuple[int, int, T]] = []
    for a, b, target in matches:
        surface = text[a:b]
        if surface in targets:
            target = targets[surface]
        elif surface in STATISTICAL:
            continue
        if target is not None:
            out.append((a, b, target))
    have = {(a, b) for a, b, _ in out}
    for short, target in targets.items():
        if target is not None:
            for m in re.finditer(rf"(?<!\w){re.escape(short)}(?!\w)", text):
                if m.span() not in have:
                    out.append((m.start(), m.end(), target))
    return out


def _is_short_form(s: str) -> bool:
    """Schwartz & Hearst's short-form candidate: one or two words, 2 to 10 characters, a letter, and a letter
    or digit first."""
    return (2 <= len(s) <= 10 and s[0].isalnum() and any(c.isalpha() for c in s)
            and len(s.split()) <= 2)


def _defined_term(text: str, paren: int, term: str, term_start: int) -> Abbreviation | None:
    """A defined term ("the “Company”") as a short form of the name right before its parenthesis, or None when no
    capitalised name stands there or the term is that name."""
    lo = max(0, paren - _LOOKBACK)
    name = _NAME_BEFORE.search(text, lo, paren)
    if name is None or name.group(1) == term:
        return None
    return Abbreviation(term, term_start, name.group(1), name.start(1))


def _pair(short: str, short_start: int, long: str, long_start: int) -> Abbreviation | None:
    """The definition of ``short`` by the end of ``long`` (offsets into the text), or None."""
    n = sum(c.isalnum() for c in short)
    words = min(n + 5, n * 2)
    at = _best_long_form(short, long, _last_words(long, words))
    if at is None:
        return None
    edges = _EDGES.search(long, at)  # without the quotes or brackets around it
    at, best = edges.start(1), edges.group(1)
    if (len(best) <= len(short) or f"{short} " in best or best.endswith(short) or n > 10
            or len(_LONG_TOKENS.findall(best)) > words):
        return None
    return Abbreviation(short, short_start, best, long_start + at)


def _last_words(text: str, words: int) -> int:
    """Where the last ``words`` whitespace-separated words of ``text`` start (the long form's window)."""
    parts = text.rsplit(None, words)
    if len(parts) <= words:
        return len(text) - len(text.lstrip())
    rest = text[len(parts[0]):]
    return len(text) - len(rest.lstrip())


def _best_long_form(short: str, long: str, lo: int) -> int | None:
    """Schwartz & Hearst's backward match: the start of the shortest suffix of ``long[lo:]`` that holds the
    letters and digits of ``short`` in order (case-insensitive), the first one at a word start."""
    end = len(long)
    chars = [c for c in short if c.isalnum()]
    for k in range(len(chars) - 1, -1, -1):
        low, up = chars[k].lower(), chars[k].upper()
        while True:
            end = max(long.rfind(low, lo, end), long.rfind(up, lo, end))
            if end < 0:
                return None
            if k or end == lo or not long[end - 1].isalnum():  # the first one at a word start
                break
    while end > lo and not long[end - 1].isspace():  # back to the start of the word
        end -= 1
    return end


def _clause(text: str, end: int) -> tuple[str, int]:
    """The text before a parenthesis back to the last ".", "," or ";" before a space or line break (a long form
    does not cross them)."""
    lo = max(0, end - _LOOKBACK)
    start = lo
    for mark in ".,;":
        at = end
        while (at := text.rfind(mark, start, at)) >= 0:
            if at + 1 < end and text[at + 1].isspace():
                start = at + 1
                break
    if start == lo and lo > 0:  # do not start inside a word
        space = re.search(r"\s", text[lo:end])
        start = lo + space.end() if space else end
    clause = text[start:end].rstrip()
    return clause, start


def _strip(s: str, start: int) -> tuple[str, int]:
    stripped = s.lstrip()
    return stripped.rstrip(), start + len(s) - len(stripped)
