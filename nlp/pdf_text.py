"""The text layer of a PDF, a block per page, without what the layout adds: running heads, footers and page numbers,
words broken at a line's end, ligatures, and the interleaving of columns drawn row by row.

Problems are ``NLPError`` naming the file.
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path

from nlp.broken_words import join_broken_words
from nlp.doc_formats import LAYOUT, SENTENCE_END, SPACES
from nlp.errors import NLPError

_PAGE_EDGE = 2  # lines at the top and at the bottom of a page where running heads, footers and page numbers are
_DIGITS = re.compile(r"\d+")
_SIDE_BY_SIDE = 3  # rows of text on both sides of a gutter that make a page two columns
_LINE_HEIGHT = 2.0  # points: two lines nearer than this in height stand on one row
_CHAR_WIDTH = 0.5  # a character's width in a proportional font, roughly, as a share of the font's size
_FILLED = 0.6  # the share of the way to the next column that a column's line covers


def pdf_text(file: Path) -> str:
    """The text layer of a PDF, a block per page (a word broken by a hyphen at a line's end is joined again, see
    :func:`nlp.broken_words.join_broken_words`). A page whose text goes on on the next one (no full stop, a lowercase
    word next) is one block with it; running heads, footers and page numbers repeated on most pages are left out;
    ligatures (ﬁ) are read as their letters."""
    import logging

    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:  # a dependency of the package; only a broken install lacks it
        raise NLPError(f"Cannot read '{file}': reading PDF needs the 'pypdf' package (pip install pypdf).") from None
    import struct
    import zlib

    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)  # what pypdf mends in a damaged file ("EOF marker not found") is not the user's to read
    try:
        reader = PdfReader(str(file))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:  # noqa: BLE001 - an unsupported encryption is as good as a password
                ok = 0
            if not ok:
                raise NLPError(f"'{file}' is an encrypted PDF: save an unlocked copy first.")
        pages = [_page_text(page) for page in reader.pages]
    except NLPError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            NotImplementedError, zlib.error, struct.error) as exc:  # a damaged file, or a filter pypdf lacks
        raise NLPError(f"'{file}' is not a readable PDF ({type(exc).__name__}: {exc}).") from None
    finally:
        log.setLevel(level)
    pages = _without_running_lines([SPACES.sub(" ", re.sub(r"\r\n?", "\n", p.translate(LAYOUT))) for p in pages])
    blocks: list[str] = []
    for page in pages:
        page = page.strip()
        if not page:
            continue
        if blocks and (page[0].islower() or blocks[-1].endswith(",")) and not SENTENCE_END.search(blocks[-1]):
            blocks[-1] += "\n" + page  # a sentence goes on
        else:
            blocks.append(page)
    if not blocks:
        raise NLPError(f"'{file}' has no text layer (a scanned PDF needs OCR first).")
    return join_broken_words("\n\n".join(blocks))


def _without_running_lines(pages: list[str]) -> list[str]:
    """Pages without the lines at their top or bottom that recur, numbers aside, on at least half the pages with
    text (and three): a running head ("ACME Corp - Annual Report 2023"), a footer, a page number ("Page 3 of 12")."""
    lines = [[line.strip() for line in page.split("\n") if line.strip()] for page in pages]
    with_text = sum(1 for page in lines if page)
    if with_text < 3:
        return pages

    def key(line: str) -> str:
        return _DIGITS.sub("#", line.casefold())

    counts: dict[str, int] = {}
    for page in lines:
        for edge in {key(x) for x in page[:_PAGE_EDGE] + page[-_PAGE_EDGE:]}:
            counts[edge] = counts.get(edge, 0) + 1
    running = {k for k, c in counts.items() if c >= max(3, with_text / 2)}
    out = []
    for page in lines:
        top = 0
        while top < min(_PAGE_EDGE, len(page)) and key(page[top]) in running:
            top += 1
        bottom = len(page)
        while bottom > max(top, len(page) - _PAGE_EDGE) and key(page[bottom - 1]) in running:
            bottom -= 1
        out.append("\n".join(page[top:bottom]))
    return out


Line = tuple[float, float, str, float]  # a line of a page's text layer: where it starts (x, y in points), its text, and
# its font's size (points)


Piece = tuple[str, tuple[float, ...], tuple[float, ...], float]  # a piece of a page's text as pypdf hands it: its
# text, the page's and the text's matrices where it is drawn, its font's size
_GEOMETRY_SLIPS = (ArithmeticError, LookupError, TypeError, ValueError)  # what an odd matrix or box may raise


def _page_text(page) -> str:
    """A page's text as pypdf reads it (in the order the page draws it), but a page of columns drawn row by row
    (left line 1, right line 1, left line 2, ...) read column after column (see :func:`_in_columns`). A slip in
    that reordering (an odd matrix or page box) leaves the page's own order: the text is there either way."""
    pieces: list[Piece] = []

    def visit(text: str, cm, tm, font, size) -> None:  # pypdf hands each piece of its text with where it is drawn
        pieces.append((text, tuple(cm), tuple(tm), size))

    text = page.extract_text(visitor_text=visit) or ""
    try:
        lines = _lines(pieces)
        if "\n".join(line[2] for line in lines) != text:  # the pieces are not the text (a pypdf that reads otherwise)
            return text
        ordered = _in_columns([line for line in lines if line[2].strip()], float(page.mediabox.width))
    except _GEOMETRY_SLIPS:
        return text
    return text if ordered is None else "\n".join(line[2] for line in ordered) + "\n"


def _lines(pieces: list[Piece]) -> list[Line]:
    """The lines that ``pieces`` make, each with where its first text is drawn and that text's size."""
    lines: list[list] = [[0.0, 0.0, "", 0.0]]
    for text, cm, tm, size in pieces:
        if "\n" not in text and (not text or lines[-1][2].strip()):  # most pieces: nothing, or more of a line
            lines[-1][2] += text
            continue
        x, y = tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[0] * cm[0] + tm[1] * cm[2]) or 1.0  # a font set at size 1 and scaled by the matrices
        for n, part in enumerate(text.split("\n")):
            if n:
                lines.append([0.0, 0.0, "", 0.0])
            if part and not lines[-1][2].strip():
                lines[-1][:2], lines[-1][3] = (x, y), size * scale
            lines[-1][2] += part
    return [tuple(line) for line in lines]


def _in_columns(lines: list[Line], width: float) -> list[Line] | None:
    """``lines`` read column after column when the page has columns of text: of the rows with a line on each side of
    a gap of a quarter of the page, at least :data:`_SIDE_BY_SIDE` (and half) have a left line that runs most of the
    way to the right one, as a column's lines do and a table's cells mostly do not ('Metformin | 500 mg' stays a
    row). Then the lines above the columns (a title, an abstract), the columns (see :func:`_in_bands`), and the lines
    below them (a footer), each top to bottom; else None (the order is the page's)."""
    rows = _side_by_side(lines, width / 4)
    filled = [(a, b) for a, b in rows if _fills(a, b[0])]
    full = {round(a[1]) for a, _ in filled}
    if len(full) < _SIDE_BY_SIDE or 2 * len(full) < len({round(a[1]) for a, _ in rows}):
        return None
    starts = _column_starts(filled, width / 4)
    if len(starts) < 2:  # no second column starts on two rows: a form's scattered fields
        return None
    top, bottom = max(a[1] for a, _ in rows) + _LINE_HEIGHT, min(a[1] for a, _ in rows) - _LINE_HEIGHT
    middle = [line for line in lines if bottom <= line[1] <= top]
    below = _down([line for line in lines if line[1] < bottom])
    tails = _column_tails(below, middle, starts)
    taken = {id(line) for line in tails}
    return (_down([line for line in lines if line[1] > top]) + _in_bands(middle + tails, starts)
            + [line for line in below if id(line) not in taken])


def _down(part: list[Line]) -> list[Line]:
    """``part`` top to bottom; stable, so a row's pieces keep the page's order."""
    return sorted(part, key=lambda line: -line[1])


def _column_starts(filled: list[tuple[Line, Line]], pitch: float) -> list[float]:
    """Where the columns start (x, left to right), from the rows where a line runs most of the way to the next one:
    the first column where the leftmost such line starts; a next one where such next lines start, at least ``pitch``
    right of the one before and on two rows (a centred heading or an indented line starts within its column)."""
    starts = [min(a[0] for a, _ in filled)]
    groups: list[list[Line]] = []
    for b in sorted((b for _, b in filled), key=lambda line: line[0]):
        if groups and b[0] - groups[-1][0][0] <= pitch:
            groups[-1].append(b)
        elif b[0] - starts[0] > pitch:
            groups.append([b])
    return starts + [group[0][0] for group in groups if len({round(b[1]) for b in group}) >= 2]


def _column_tails(below: list[Line], middle: list[Line], starts: list[float]) -> list[Line]:
    """The lines of ``below`` (top to bottom) that go on a column longer than the next (a last page's): starting in
    the first quarter of the column, each within three of its heights under the column's line above it; a page
    number or a footer further down, or centred, is not one."""
    ends = starts[1:] + [2 * starts[-1] - starts[-2]]
    last: dict[int, float] = {}
    for line in middle:
        n = _column(line, starts)
        last[n] = min(last.get(n, line[1]), line[1])
    tails, around = [], middle + below
    for line in below:
        n = _column(line, starts)
        if (n >= 0 and n in last and line[0] - starts[n] <= (ends[n] - starts[n]) / 4
                and last[n] - line[1] <= 3 * line[3] and not _spans(line, starts, around)):
            tails.append(line)
            last[n] = line[1]
    return tails


def _in_bands(lines: list[Line], starts: list[float]) -> list[Line]:
    """``lines`` of columns starting at ``starts`` read column after column; a line across a gutter with nothing
    beside it (a full-width figure caption or heading, see :func:`_spans`) ends the band of columns above it and
    stands between that band and the next, as such pages are read."""
    out: list[Line] = []
    band: list[Line] = []
    for line in _down(lines):
        if _spans(line, starts, lines) or (out and not band and _goes_on(out[-1], line, lines)):
            out += sorted(band, key=lambda x: _column(x, starts)) + [line]
            band = []
        else:
            band.append(line)
    return out + sorted(band, key=lambda x: _column(x, starts))


def _goes_on(full: Line, line: Line, lines: list[Line]) -> bool:
    """Whether ``line`` is the next line of the full-width paragraph whose line above is ``full`` (a caption's short
    last line, centred): in its font's size, within two of its heights under it, alone on its row."""
    return (abs(full[3] - line[3]) < 0.5 and full[1] - line[1] < 2 * line[3]
            and not any(abs(other[1] - line[1]) < _LINE_HEIGHT and other is not line for other in lines))


def _column(line: Line, starts: list[float]) -> int:
    """The column ``line`` starts in, of those starting at ``starts`` (-1: left of them all)."""
    return bisect.bisect_right(starts, line[0] + 1) - 1


def _spans(line: Line, starts: list[float], lines: list[Line]) -> bool:
    """Whether ``line`` runs across the start of a next column by a quarter of a column, or is centred on that start
    within an eighth of one (a short caption under a figure across two columns), taking a character as half its font's
    size wide (see :func:`_fills`), with no line starting in the last such column within two of its heights, as a
    full-width line has (a column's line beside a gap in the next one, or a line of dot leaders, does not; the next
    line of a centred caption across three columns may start in the middle one)."""
    x, y, text, size = line
    end = x + len(text.strip()) * size * _CHAR_WIDTH
    crossed = [start for before, start in zip(starts, starts[1:]) if x + 1 < start < end
               and (end - start >= (start - before) / 4 or abs((x + end) / 2 - start) <= (start - before) / 8)]
    return bool(crossed) and _column(line, starts) >= 0 and not any(
        abs(other[1] - y) < 2 * size and crossed[-1] - 1 <= other[0] <= end for other in lines)


def _fills(line: Line, right: float) -> bool:
    """Whether ``line`` runs most of the way to ``right``, taking a character as half its font's size wide."""
    x, _, text, size = line
    return len(text.strip()) * size * _CHAR_WIDTH >= _FILLED * (right - x)


def _side_by_side(lines: list[Line], gap: float) -> list[tuple[Line, Line]]:
    """Pairs of lines on one row (heights within :data:`_LINE_HEIGHT`), the second starting ``gap`` right of the
    first; lines sorted by height, so a page of many lines is not read pair by pair."""
    by_height = sorted(lines, key=lambda line: line[1])
    heights = [line[1] for line in by_height]
    pairs = []
    for a in by_height:
        low, high = bisect.bisect_right(heights, a[1] - _LINE_HEIGHT), bisect.bisect_left(heights, a[1] + _LINE_HEIGHT)
        pairs += [(a, b) for b in by_height[low:high] if b[0] - a[0] > gap]
    return pairs
