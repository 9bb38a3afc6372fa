"""Where no sentence may run on: paragraph breaks and markdown headings' lines.

Both sentence splitters (the extractor's spaCy bounds, ``nlp.findings``' punctuation rule) cut here too, so a
title line without a full stop ("# Warfarin: interactions to watch") is never the start of a fact's sentence.
"""
from __future__ import annotations

import bisect
import re

# a paragraph break (a blank line: Windows' "\r\n\r\n" too, or a line holding only a form feed, a page break), or a
# markdown heading's line ("# Warfarin: interactions to watch")
_BREAK = re.compile(r"\r?\n[ \t\r\f\v]*\n|(?m:^[ \t]{0,3}#{1,6}(?:[ \t][^\n]*)?$)")


def paragraph_bounds(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``bounds`` split at paragraph breaks and around markdown headings' lines: the parser runs a title line
    without a full stop into the sentence under it, and a fact read there had the title in its source sentence."""
    cuts = sorted({at for m in _BREAK.finditer(text) for at in m.span()})
    if not cuts:
        return bounds
    out = []
    for start, end in bounds:
        pieces = []
        at = bisect.bisect_right(cuts, start)
        while at < len(cuts) and cuts[at] < end:
            if text[start:cuts[at]].strip():
                pieces.append((start, cuts[at]))
                start = cuts[at]
            at += 1
        if text[start:end].strip() or not pieces:
            pieces.append((start, end))
        else:  # only whitespace is left: it stays with the piece before
            pieces[-1] = (pieces[-1][0], end)
        out += pieces
    return out


def paragraphs(text: str) -> list[str]:
    """``text`` cut at paragraph breaks and around headings' lines, blank pieces left out."""
    return [text[a:b] for a, b in paragraph_bounds(text, [(0, len(text))]) if text[a:b].strip()]
