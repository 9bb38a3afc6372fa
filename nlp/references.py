"""A paper's trailing reference list, left out of its text: read as content, the cited titles ("Metformin causes
lactic acidosis in renal failure. N Engl J Med. 1998") give facts the paper never states.
"""
from __future__ import annotations

import re

# the heading of a reference list, on a line of its own, perhaps numbered ("7. References", "VI. REFERENCES")
_HEADING = re.compile(r"^[ \t]*(?:(?:\d{1,2}|[IVXivx]{1,4})\.?[ \t]+)?(?:references?(?:[ \t]+and[ \t]+notes)?|"
                      r"bibliography|literature[ \t]+cited|works[ \t]+cited|cited[ \t]+literature)[ \t]*:?[ \t]*$",
                      re.IGNORECASE | re.MULTILINE)
# what marks a line as (part of) a citation: a year, a DOI, a PMID, 'et al', a journal's volume(issue):pages
_CITATION = re.compile(r"\b(?:1[89]|20)\d\d[a-z]?\b|\bdoi\b|\bPMID\b|\bet al\b|\d+\s*\(\d+\)\s*:\s*\d+", re.IGNORECASE)
_MIN_SHARE = 0.3  # of the lines under the heading that must look like citations (an entry wraps over 2-3 lines)
_LAST_LINES = 3  # ... and one of the last lines must: an appendix after the references keeps them all


def without_references(text: str) -> str:
    """``text`` without its last "References" (or "Bibliography", "Literature cited", "Works cited") heading and all
    that follows it, when what follows reads as a list of citations (a year, DOI, 'et al' on enough of its lines, one
    of the last few among them) or is nothing. When in doubt the text is kept whole: a paper losing a section is worse
    than one keeping its references."""
    headings = list(_HEADING.finditer(text))
    if not headings:
        return text
    heading = headings[-1]
    lines = [line for line in text[heading.end():].splitlines() if line.strip()]
    before = text[:heading.start()].rstrip()
    if not before:
        return text  # a document that is all references is read as it is
    if not lines:
        return before
    cited = [bool(_CITATION.search(line)) for line in lines]
    if sum(cited) >= _MIN_SHARE * len(lines) and any(cited[-_LAST_LINES:]):
        return before
    return text
