"""Text out of the document formats analysts are handed: HTML pages and filings, PubMed XML, PDF.

Each reader returns plain text with one paragraph (a heading, a list item, a table row, an abstract section) per
block, blocks separated by a blank line, so sentences never run from one block into the next. Problems are
``NLPError`` naming the file. No reader touches the network: HTML links and scripts are not followed, an XML
file's DOCTYPE is not fetched.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

from nlp.errors import NLPError

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
PUBMED_SUFFIXES = (".xml",)
PDF_SUFFIXES = (".pdf",)

# elements whose start or end closes the paragraph being read
_BLOCKS = frozenset("""address article aside blockquote body br caption dd details div dl dt fieldset figcaption figure
footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody tfoot thead title tr
ul""".split())
_CELLS = frozenset(("td", "th"))  # a table row is one block, its cells separated by ' | '
# elements whose text is not the document's (code, styling, metadata, embedded objects)
_SKIPPED = frozenset("script style noscript template head svg math iframe object canvas select option".split())
_SPACE = re.compile(r"\s+")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title = ""
        self._words: list[str] = []
        self._skip: list[str] = []
        self._in_title = False

    def _close(self) -> None:
        text = _SPACE.sub(" ", "".join(self._words)).strip()
        if text:
            self.blocks.append(text)
        self._words = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "body":  # a head left open ends where the body starts
            self._skip = [t for t in self._skip if t != "head"]
        elif tag in _SKIPPED:
            self._skip.append(tag)
        if tag in _BLOCKS:
            self._close()
        elif tag in _CELLS and "".join(self._words).strip():
            self._words.append(" | ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self._close()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif self._skip and tag == self._skip[-1]:
            self._skip.pop()
        if tag in _BLOCKS:
            self._close()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._words.append(data)

    def text(self) -> str:
        self._close()
        title = _SPACE.sub(" ", self.title).strip()
        blocks = self.blocks
        if title and (not blocks or blocks[0] != title):
            blocks = [title, *blocks]  # the page's title is its first heading (unless the body repeats it)
        return "\n\n".join(blocks)


def decode_html(raw: bytes, file: Path) -> str:
    """UTF-8 (with or without a BOM), else the charset the page declares in a ``<meta>`` tag."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(raw[:4096])
    if declared:
        name = declared.group(1).decode("ascii", "replace")
        try:
            return raw.decode(name)
        except LookupError:
            raise NLPError(f"'{file}' declares the unknown charset '{name}'.") from None
        except UnicodeDecodeError as exc:
            raise NLPError(f"'{file}' is not valid {name} (byte {exc.start}), the charset it declares.") from None
    raise NLPError(f"'{file}' is not UTF-8 and declares no charset (<meta charset=...>): convert it to UTF-8.")


def html_text(markup: str) -> str:
    """The visible text of an HTML page, a block per paragraph; scripts, styles and the head (but its title) left
    out, character references decoded."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return parser.text()


def pubmed_articles(raw: bytes, file: Path) -> Iterator[tuple[str, str]]:
    """(PMID, text) per article of a PubMed XML file (``PubmedArticleSet``, as PubMed's "Save: PubMed XML" and
    E-utilities efetch give it): the title, then each abstract section (``LABEL: text`` when labelled)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise NLPError(f"'{file}' is not well-formed XML ({exc}).") from None
    if root.tag != "PubmedArticleSet":
        raise NLPError(f"'{file}': expected PubMed XML (a <PubmedArticleSet>), found <{root.tag}>.")
    found = False
    for n, article in enumerate(root.iter("PubmedArticle"), 1):
        found = True
        pmid = _text(article.find("MedlineCitation/PMID"))
        if not pmid:
            raise NLPError(f"'{file}': article {n} has no <PMID>.")
        blocks = [_text(article.find("MedlineCitation/Article/ArticleTitle"))]
        for part in article.iterfind("MedlineCitation/Article/Abstract/AbstractText"):
            body, label = _text(part), (part.get("Label") or "").strip()
            if body:
                blocks.append(f"{label}: {body}" if label else body)
        text = "\n\n".join(b for b in blocks if b)
        if not text:
            raise NLPError(f"'{file}': article PMID {pmid} has neither a title nor an abstract.")
        yield pmid, text
    if not found:
        raise NLPError(f"'{file}' holds no <PubmedArticle>.")


def _text(element) -> str:
    return _SPACE.sub(" ", "".join(element.itertext())).strip() if element is not None else ""


_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\n(?=[a-z])")


def pdf_text(file: Path) -> str:
    """The text layer of a PDF, a block per page (a word broken by a hyphen at a line's end is joined again)."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # a dependency of the package; only a broken install lacks it
        raise NLPError(f"Cannot read '{file}': reading PDF needs the 'pypdf' package (pip install pypdf).") from None
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
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise NLPError(f"'{file}' is not a readable PDF ({type(exc).__name__}: {exc}).") from None
    blocks = []
    for page in pages:
        page = _HYPHEN_BREAK.sub("", page.replace("\r\n", "\n").replace("\r", "\n")).strip()
        if page:
            blocks.append(page)
    if not blocks:
        raise NLPError(f"'{file}' has no text layer (a scanned PDF needs OCR first).")
    return "\n\n".join(blocks)
