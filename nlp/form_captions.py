"""What an SEC filing's cover page prints to label its fields, left out of its text: read as text, the captions
under the fields ("(Commission File Number)", "(IRS Employer Identification No.)") and the headers of its tables
("Exhibit No. | Description") became entities (a person 'Description', an organisation 'IRS Employer'), and so did
the lone page numbers an HTML filing prints between its pages. The fields' values stay. A plain-text filing prints
its captions side by side in columns, each broken over lines ("(State or other jurisdiction of      (I.R.S. Employer"
above " incorporation or organization)        Identification No.)"): they are read a column at a time.
"""
from __future__ import annotations

import re

# the captions printed in parentheses under a cover page's fields (Forms 8-K, 10-K, 10-Q, S-1 and 20-F alike)
_CAPTIONS = (
    "Exact name of (?:the )?registrants? as specified in (?:its|their) charters?",
    "State or other jurisdiction of incorporation(?: or organi[sz]ation)?",
    "Commission File (?:Number|No\\.?)",
    "I\\.?R\\.?S\\.? Employer Identification (?:Number|No\\.?)",
    "Address of principal executive offices(?:,? including zip code)?",
    "Zip Code",
    "Registrant['’]?s telephone number,? including area code",
    "Former name,? former address and former fiscal year,? if changed since last report",
    "Former name or former address,? if changed since last report",
    "Name, address,? including zip code,? and telephone number,? including area code,? of agent for service",
    "Primary Standard Industrial Classification Code Number",
)
# one caption in parentheses, its words perhaps broken over lines (a <br> or a <p> in its table cell), with the cell
# separator before it
_CAPTION = re.compile(r"(?:[ \t]*\|[ \t]*)?\([ \t]*(?:" + "|".join(c.replace(" ", r"\s+") for c in _CAPTIONS)
                      + r")[ \t]*\)", re.IGNORECASE)
# where one starts: a cheap test of a group of lines before it is read a column at a time
_CAPTION_START = re.compile(r"\([ \t]*(?:" + "|".join(c.split(" ", 1)[0] for c in _CAPTIONS) + ")", re.IGNORECASE)
# a block that is a cover page table's header row, or a field with its value (a phone number)
_HEADER_ROW = re.compile(r"(?:Exhibits?(?:\s+(?:No\.?|Number))?\s*\|\s*Description(?:\s+of\s+Exhibits?)?"
                         r"|Title of each class\s*\|\s*Trading\s+Symbol\(s\)\s*\|\s*Name of each exchange on which registered"
                         r"|Registrant['’]?s telephone number,? including area code:?[\s\d()+.-]*)", re.IGNORECASE)
# a page number printed as a paragraph of its own: '2', '- 2 -', 'Page 2', 'Page 2 of 9'
_PAGE_NUMBER = re.compile(r"(?:Page\s+)?[-–—]?\s*\d{1,3}\s*[-–—]?(?:\s+of\s+\d{1,3})?", re.IGNORECASE)
_BLOCK_BREAK = re.compile(r"\n[ \t]*\n")
_COLUMN_GAP = re.compile(r"\S[ \t]{2,}\S")  # a plain-text page's columns stand apart by two spaces or more
_SEGMENT = re.compile(r"\S+(?:[ \t]\S+)*")  # a column's piece of one line: words one space apart
# what a plain-text EDGAR filing starts with: its SGML header (<SEC-DOCUMENT>, <SEC-HEADER>, <DOCUMENT>), or the cover
# page's commission name and a form's number
_SEC_HEADER = re.compile(r"<(?:SEC-DOCUMENT|SEC-HEADER|IMS-DOCUMENT)>")
_SEC_NAME = re.compile(r"SECURITIES\s+AND\s+EXCHANGE\s+COMMISSION", re.IGNORECASE)
_SEC_FORM = re.compile(r"\bFORM\s+(?:8-K|10-K|10-Q|20-F|40-F|6-K|S-1|S-3|S-4|F-1|DEF\s+14A)\b", re.IGNORECASE)
_TOP = 5000  # characters of a text in which a filing's header or cover page stands


def is_sec_filing(text: str) -> bool:
    """Whether a plain text is an SEC filing as EDGAR serves it (a ``.txt``): its SGML header, or "Securities and
    Exchange Commission" and a form's number ("Form 8-K") near its top."""
    top = text[:_TOP]
    return bool(_SEC_HEADER.search(top) or (_SEC_NAME.search(top) and _SEC_FORM.search(top)))


def without_form_captions(text: str) -> str:
    """``text`` (an HTML page's, a block per paragraph, or a plain-text filing's) without a filing cover page's field
    captions and table headers (the SEC forms' own words, rare elsewhere); a block left empty goes. Lone page
    numbers go too, but only from a filing (one of these found, or :func:`is_sec_filing`): elsewhere a paragraph
    that is only a number ("42") may be content."""
    cut = _CAPTION.sub("", without_column_captions(text))
    blocks = [block.strip().strip("|").strip() for block in _BLOCK_BREAK.split(cut)]
    kept = [block for block in blocks if block and not _HEADER_ROW.fullmatch(block)]
    if cut != text or len(kept) < len([b for b in blocks if b]) or is_sec_filing(text):
        kept = [block for block in kept if not _PAGE_NUMBER.fullmatch(block)]
    return "\n\n".join(kept)


def without_column_captions(text: str) -> str:
    """``text`` (a plain text, or an HTML page's <pre>, as it is laid out) without the captions it prints side by side,
    each in its column over several lines: read across its lines they interleave, and no caption reads whole. Each
    group of lines is read a column at a time (only one with a column gap and a caption's first word), and a line's
    pieces that lie within a caption go; a line left blank goes with them."""
    if not _COLUMN_GAP.search(text):
        return text
    parts = re.split(f"({_BLOCK_BREAK.pattern})", text)  # groups of lines, and the blank lines between them
    return "".join(_group_without_captions(part) if n % 2 == 0 and _CAPTION_START.search(part)
                   and _COLUMN_GAP.search(part) else part for n, part in enumerate(parts))


def _group_without_captions(group: str) -> str:
    """One group of lines (no blank line among them) without the caption pieces its columns hold."""
    lines = [line.expandtabs() for line in group.split("\n")]
    columns: list[list[tuple[int, int, int]]] = []  # per column, its pieces: (line, start, end)
    spans: list[tuple[int, int]] = []  # per column, the character positions its pieces cover
    for row, line in enumerate(lines):
        for m in _SEGMENT.finditer(line):
            overlap = {i: min(b, m.end()) - max(a, m.start()) for i, (a, b) in enumerate(spans)}
            at = max((i for i in overlap if overlap[i] > 0), key=overlap.get, default=None)  # the column it is most in
            if at is None:
                columns.append([])
                spans.append((m.start(), m.end()))
                at = len(columns) - 1
            columns[at].append((row, m.start(), m.end()))
            spans[at] = (min(spans[at][0], m.start()), max(spans[at][1], m.end()))
    cut = [list(line) for line in lines]
    for pieces in columns:
        for row, start, end in _caption_pieces(pieces, lines):
            cut[row][start:end] = " " * (end - start)
    if all(list(line) == c for line, c in zip(lines, cut)):
        return group
    return "\n".join(line for line in ("".join(c).rstrip() for c in cut) if line.strip())


def _caption_pieces(pieces: list[tuple[int, int, int]], lines: list[str]) -> list[tuple[int, int, int]]:
    """The pieces of one column (line, start, end) that lie within a caption of the column read top to bottom."""
    text, at = "", []
    for row, start, end in pieces:
        if text:
            text += " "
        at.append(len(text))
        text += lines[row][start:end]
    captions = [m.span() for m in _CAPTION.finditer(text)]
    return [piece for piece, begin in zip(pieces, at)
            if any(a <= begin and begin + piece[2] - piece[1] <= b for a, b in captions)]
