"""The text layer of a PDF, a block per page, without what the layout adds: running heads, footers and page numbers,
words broken at a line's end, ligatures.

Problems are ``NLPError`` naming the file.
"""
from __future__ import annotations

import re
from pathlib import Path

from nlp.broken_words import join_broken_words
from nlp.doc_formats import LAYOUT, SENTENCE_END, SPACES
from nlp.errors import NLPError

_PAGE_EDGE = 2  # lines at the top and at the bottom of a page where running heads, footers and page numbers are
_DIGITS = re.compile(r"\d+")


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
        pages = [page.extract_text() or "" for page in reader.pages]
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
