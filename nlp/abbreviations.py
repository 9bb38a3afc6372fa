"""Abbreviation definitions in running text, Schwartz & Hearst (2003) style.

"atrial fibrillation (AF)" defines AF; so does "AF (atrial fibrillation)". The long form is the
shortest stretch before the parenthesis whose words' characters cover the short form's characters
in order, the first character matching a word start.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PAREN = re.compile(r"\(([^()]{1,120})\)")


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


def _is_short_form(s: str) -> bool:
    words = s.split()
    return (0 < len(words) <= 2 and 2 <= len(s) <= 10 and s[0].isalnum()
            and any(c.isalpha() for c in s))


def find_abbreviations(text: str) -> list[Abbreviation]:
    """Every definition of a short form in ``text``, in order of appearance."""
    found: list[Abbreviation] = []
    for m in _PAREN.finditer(text):
        inner = m.group(1).strip()
        inner_start = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
        inner = inner.split(";")[0].split(",")[0].strip()
        if _is_short_form(inner):
            before = text[:m.start()].rstrip()
            long = _long_form(inner, before)
            if long is not None:
                found.append(Abbreviation(inner, inner_start, before[long:], long))
                continue
        # "AF (atrial fibrillation)": short form before the parenthesis
        prev = re.search(r"(\S+)\s*$", text[:m.start()])
        if prev and _is_short_form(prev.group(1)) and len(inner.split()) > 1:
            short = prev.group(1)
            if len(inner) > len(short) and _long_form(short, inner) == 0:
                found.append(Abbreviation(short, prev.start(1), inner, inner_start))
    return found


def _long_form(short: str, before: str) -> int | None:
    """Start index in ``before`` of the long form for ``short``, or None."""
    words = before.split()
    max_words = min(len(short) + 5, len(short) * 2)
    candidate_start = max(0, len(words) - max_words)
    start_char = _word_start_index(before, candidate_start)
    window = before[start_char:]
    s_idx = len(short) - 1
    l_idx = len(window) - 1
    while s_idx >= 0:
        c = short[s_idx].lower()
        if not c.isalnum():
            s_idx -= 1
            continue
        while l_idx >= 0 and (window[l_idx].lower() != c or
                              (s_idx == 0 and l_idx > 0 and window[l_idx - 1].isalnum())):
            l_idx -= 1
        if l_idx < 0:
            return None
        l_idx -= 1
        s_idx -= 1
    begin = window.rfind(" ", 0, l_idx + 1) + 1
    long = window[begin:]
    if len(long) <= len(short) or not long.strip():
        return None
    return start_char + begin


def _word_start_index(text: str, word_no: int) -> int:
    count = 0
    for m in re.finditer(r"\S+", text):
        if count == word_no:
            return m.start()
        count += 1
    return len(text)


def abbreviation_map(text: str) -> dict[str, str]:
    """Short form -> long form for the definitions in ``text`` (the first definition wins)."""
    out: dict[str, str] = {}
    for a in find_abbreviations(text):
        out.setdefault(a.short, a.long)
    return out
