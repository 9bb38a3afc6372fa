"""Text out of the document formats analysts are handed: HTML pages and filings, PubMed XML (and, in
``nlp.pdf_text``, PDF).

Each reader returns plain text with one paragraph (a heading, a list item, a table row, an abstract section) per
block, blocks separated by a blank line, so sentences never run from one block into the next. Problems are
``NLPError`` naming the file. No reader touches the network: HTML links and scripts are not followed, an XML
file's DOCTYPE is not fetched.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, Iterator

from nlp.errors import NLPError
from nlp.form_captions import without_column_captions

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
PUBMED_SUFFIXES = (".xml", ".xml.gz")  # PubMed's baseline and update files are gzipped
PDF_SUFFIXES = (".pdf",)

_SPACE = re.compile(r"\s+")
# characters that only lay a word out, taken out so that a name reads as typed: a soft hyphen (&shy;), zero-width
# spaces and joiners, and the typographic ligatures a PDF's text layer gives ("ﬁbrosis" for "fibrosis")
LAYOUT = str.maketrans({"\u00ad": "", "\u200b": "", "\u2060": "", "\ufeff": "", "\ufb00": "ff", "\ufb01": "fi",
                        "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})
_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
# the labels the WHATWG Encoding Standard reads as windows-1252
_WINDOWS_1252 = frozenset("""ansi-x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1
iso88591 iso-8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252""".split())
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# elements whose start or end closes the paragraph being read
_BLOCKS = frozenset("""address article aside blockquote body caption center dd details dialog dir div dl dt fieldset
figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li main menu nav ol p pre section summary
table tbody tfoot thead title tr ul""".split())
_CELLS = frozenset(("td", "th"))  # a table row is one block, its cells separated by ' | '
# elements whose text is not the document's (code, styling, metadata, embedded objects, menus, an inline XBRL
# filing's hidden header of facts)
_SKIPPED = frozenset("""script style noscript template head svg math iframe object canvas select datalist button
textarea nav ix:header""".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# what may stand in a <head>: any other element starts the body, as in a browser, when neither </head> nor <body> came
_HEAD = frozenset("html head title meta link style script base noscript template".split())
# an element ended without its end tag by these start tags (a <p> by any block), as a browser ends it
_ENDED_BY = {"p": _BLOCKS | _CELLS, "li": frozenset({"li"}), "dt": frozenset({"dt", "dd"}),
             "dd": frozenset({"dt", "dd"}), "tr": frozenset({"tr"}), "td": frozenset({"td", "th", "tr"}),
             "th": frozenset({"td", "th", "tr"}), "option": frozenset({"option", "optgroup"})}
_TABLE = frozenset("table tbody thead tfoot".split())
_ROW_ENDS = _TABLE | {"tr", "caption"}  # the blocks that end a table's row; any other block in a cell does not
# ... and by these end tags (a <li> by its list's)
_ENDED_BY_END = {"p": _BLOCKS | _CELLS, "li": frozenset("ul ol menu dir".split()), "dt": frozenset({"dl"}),
                 "dd": frozenset({"dl"}), "tr": _TABLE, "td": _TABLE | {"tr"}, "th": _TABLE | {"tr"},
                 "option": frozenset({"select", "datalist", "optgroup"})}
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.IGNORECASE)
# a cookie banner's id or class (not a section on informed consent): generic names and the common consent managers'
_BANNER = re.compile(r"cookie|gdpr|onetrust|didomi|qc-cmp|truste|consent[-_]?(?:banner|bar|popup|modal|dialog|manager"
                     r"|notice|sdk|wall)", re.IGNORECASE)
# a footnote mark: 1, 12, (3), [4], 1,2 or 1-3, *, †, ‡, §, ¶, or a letter
_FOOTNOTE = re.compile(r"[\[(]?(?:\d{1,3}(?:\s*[,–-]\s*\d{1,3})*|[*†‡§¶#]{1,3}|[a-z])[\])]?")
_GLUED = re.compile(r"(?:[^\W\d_]{3,}|[.,;:)\]\"'’”])$")  # ... read after a word (not a unit: m², 10⁶) or a stop
_LINE_BREAK = "\u2028"  # a <br> (the markup's own whitespace is read as spaces, a <pre>'s line breaks as "\n")
_CELL_BLOCK = "\u2029"  # a block's edge in a table cell: a space in a row of several cells, else a paragraph break
SPACES = re.compile(r"[^\S\n\u2028]+")
_BLANK_LINE = re.compile(r"[\n\u2028][^\S\n\u2028]*[\n\u2028]\s*")
_LINES = re.compile(r"(?=[\n\u2028])")
SENTENCE_END = re.compile(r"[.!?:;]['\"’”)]*$")
# page chrome, as ARIA reads the markup: an <aside> (role complementary) is the page's unless an <article> or <section>
# holds it (then it is the article's: a fact box, a note), a <footer> (role contentinfo) unless one of these holds it
_CHROME_UNLESS_IN = {"aside": frozenset({"article", "section"}),
                     "footer": frozenset({"article", "section", "aside", "main", "nav"})}
_ROLES = {"complementary": "aside", "contentinfo": "footer"}
_SECTIONS = frozenset().union(*_CHROME_UNLESS_IN.values())
# ... and an element whose whole class or id names page chrome: sidebars, related links, sharing buttons, newsletter
# sign-ups, comments, ads, breadcrumbs, and a paper's reference list (its cited titles are no facts of the page; whole
# names only: 'related-party', 'share', 'share-price', 'has-sidebar', 'reference-price' are not)
_CHROME_NAME = re.compile(r"(?<!\S)(?:" + "|".join((
    r"side-?bar(?:[-_](?:left|right|\d))?",
    r"related(?:[-_](?:articles?|stories|story|posts?|links?|content|news|items?|reading|topics?|coverage))?",
    r"(?:social[-_])?share[-_](?:buttons?|bar|tools?|links?|icons?)|sharing|sharethis",
    r"social[-_](?:share|links|icons|media|buttons|bar)",
    r"newsletter(?:[-_](?:signup|sign-up|form|box|promo))?",
    r"comments|comments?[-_](?:section|list|area|form|thread|container)|disqus(?:_thread)?",
    r"ads?|advert|advertisement|ad[-_](?:slot|container|unit|wrapper|banner|box)|sponsored(?:[-_]content)?|promo",
    r"breadcrumbs?",
    r"references|ref-?list|reference-list|bibliography")) + r")(?!\S)", re.IGNORECASE)
_NEVER_CHROME = frozenset("html body main article".split())  # a class on these is the page's layout, not chrome


def _hidden(tag: str, attrs, open_sections: dict[str, int] | None) -> bool:
    """Not shown (display: none, the hidden attribute, a closed dialog), or a menu, cookie banner or page chrome (see
    :func:`_chrome`; not when ``open_sections`` is None) around it."""
    found = dict(attrs)
    names = f"{found.get('id') or ''} {found.get('class') or ''}"
    return ("hidden" in found or bool(_HIDDEN_STYLE.search(found.get("style") or ""))
            or (tag == "dialog" and "open" not in found) or found.get("role") == "navigation"
            or bool(_BANNER.search(names))
            or (open_sections is not None and _chrome(tag, found.get("role") or "", names, open_sections)))


def _chrome(tag: str, role: str, names: str, open_sections: dict[str, int]) -> bool:
    """Page chrome, not the document's text: a page-level <aside> or <footer> (or role), or an element whose class or
    id (``names``) is one of :data:`_CHROME_NAME`. When in doubt it is content: a page losing its text is worse than
    one keeping a 'Related stories' box."""
    kind = _ROLES.get(role.strip().lower(), tag)
    if kind in _CHROME_UNLESS_IN and not any(open_sections.get(s) for s in _CHROME_UNLESS_IN[kind]):
        return True
    return tag not in _NEVER_CHROME and bool(_CHROME_NAME.search(names))


class _HTMLText(HTMLParser):
    def __init__(self, chrome: bool = False) -> None:
        """``chrome``: read page chrome (asides, footers, sidebars) too."""
        super().__init__(convert_charrefs=True)
        self.chrome = chrome
        self.blocks: list[str] = []
        self.title = ""
        self._words: list[str] = []
        self._skip: list[str] = []  # the elements, outermost first, whose text is left out
        self._sups: list[int] = []  # where in _words each open <sup> started
        self._pre = 0
        self._pre_from = 0  # where in _words the outermost open <pre> starts
        self._in_title = False
        self._sections: dict[str, int] = {}  # how many of each sectioning element (see _SECTIONS) are open
        self.h1s: list[str] = []  # the page's visible <h1> headings
        self._h1_from: tuple[int, int] | None = None  # the block, and the word, the <h1> being read starts at
        self._cells: list[bool] = []  # per open <table>, innermost last: whether one of its cells is open
        self._cell_break: int | None = None  # where in _words the last <br> read in a cell is
        self._joined_cells = False  # whether the paragraph being read holds a table row's second cell

    def _close(self) -> None:
        """End the paragraph. A blank line in it (a <pre>'s, or two <br>) starts another, and so does a <br>, unless
        the line goes on with a lowercase word (a <br/> in the middle of a sentence); a <pre>'s line break stays.
        A block's edge in a table cell (see :meth:`_block`) is a space in a row of several cells, else a blank line."""
        joined = "".join(self._words)
        if not self._joined_cells:
            joined = joined.replace(_CELL_BLOCK, _LINE_BREAK * 2)
        for part in _BLANK_LINE.split(joined):
            block = ""
            for line in _LINES.split(part):
                text = SPACES.sub(" ", line[1:] if line[:1] in "\n" + _LINE_BREAK else line).strip()
                if not text:
                    continue
                if not block:
                    block = text
                elif (text[0].islower() or block.endswith(",")) and not SENTENCE_END.search(block):
                    block += " " + text
                elif line[0] == "\n":
                    block += "\n" + text
                else:
                    self.blocks.append(block)
                    block = text
            if block:
                self.blocks.append(block)
        self._words, self._sups, self._cell_break, self._joined_cells = [], [], None, False

    def _block(self, tag: str) -> None:
        """A block element starts or ends: the paragraph ends, but in a table cell (a <p> or <div> in a <td>) the row
        goes on (an 8-K's '(Commission</p><p>File Number)' cut its row into paragraphs); :meth:`_close` reads the
        edge when the row ends, a blank line only when the row has a single cell (a page laid out in a table)."""
        if self._cells and self._cells[-1] and tag not in _ROW_ENDS:
            self._words.append(_CELL_BLOCK)
        else:
            self._close()

    def handle_starttag(self, tag: str, attrs) -> None:
        if "head" in self._skip and (tag == "body" or tag not in _HEAD):  # a head left open ends where the body starts
            self._skip = [t for t in self._skip if t != "head"]
        while self._skip and tag in _ENDED_BY.get(self._skip[-1], ()):
            self._skip.pop()
        if tag == "title" and not self.title and set(self._skip) <= {"head"}:  # not an <svg>'s <title>
            self._in_title = True
        elif tag not in _VOID and (tag in _SKIPPED or _hidden(tag, attrs, None if self.chrome else self._sections)):
            self._skip.append(tag)
        if tag in _SECTIONS:
            self._sections[tag] = self._sections.get(tag, 0) + 1
        if tag in _BLOCKS:
            self._block(tag)
            if tag == "h1" and not self._skip:
                self._h1_from = len(self.blocks), len(self._words)
        elif tag == "br":
            self._line_break()
        elif tag in _CELLS and "".join(self._words).strip():
            self._words.append(" | ")
            self._joined_cells = True
        elif tag == "sup":
            self._sups.append(len(self._words))
        if tag == "pre":
            self._pre += 1
            if self._pre == 1:
                self._pre_from = len(self._words)
        self._track_cells(tag, start=True)

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self._block(tag)
        elif tag == "br":
            self._line_break()

    def _line_break(self) -> None:
        """A <br>: a line break, but in a table cell a space, so the cell's lines stay in its row ("(Commission<br>File
        Number)" made two paragraphs of one caption and cut the row in two). Two in a row are a blank line, in a cell
        too: a page laid out in a table's cells keeps its paragraphs."""
        if not (self._cells and self._cells[-1]):
            self._words.append(_LINE_BREAK)
        elif self._cell_break is not None and not "".join(self._words[self._cell_break:]).strip():
            self._words[self._cell_break:] = [_LINE_BREAK, _LINE_BREAK]
            self._cell_break = None
        else:
            self._cell_break = len(self._words)
            self._words.append(" ")

    def _track_cells(self, tag: str, start: bool) -> None:
        """Keep :attr:`_cells` up to date: a <table> opens a level, a cell opens in it and ends with its row."""
        if tag == "table":
            if start:
                self._cells.append(False)
            elif self._cells:
                self._cells.pop()
        elif tag in _CELLS or tag == "tr":
            if self._cells:
                self._cells[-1] = start and tag in _CELLS

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self._skip:  # elements left open inside it (<option>, <p>) end with it
            del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag):]
        else:
            while self._skip and tag in _ENDED_BY_END.get(self._skip[-1], ()):
                self._skip.pop()
        if tag == "sup" and self._sups:
            self._footnote(self._sups.pop())
        elif tag == "pre" and self._pre:
            self._pre -= 1
            if not self._pre:
                self._laid_out(self._pre_from)
        elif self._sections.get(tag):
            self._sections[tag] -= 1
        if tag in _BLOCKS:
            self._block(tag)
        if tag == "h1" and self._h1_from is not None:
            block, word = self._h1_from
            # closed as a block, or still in the row of the table cell it stands in
            heading = self.blocks[block:] if len(self.blocks) > block else ["".join(self._words[word:])]
            self.h1s.append(" ".join(heading))  # its spaces and line breaks as they come: _same_heading reads past them
            self._h1_from = None
        self._track_cells(tag, start=False)

    def _laid_out(self, start: int) -> None:
        """A <pre>'s text from ``start`` in _words, while its spaces still lay it out: a plain-text filing in a <pre>
        without the captions it prints side by side (see :func:`nlp.form_captions.without_column_captions`)."""
        text = "".join(self._words[start:])
        cut = without_column_captions(text)
        if cut != text:
            self._words[start:] = [cut]
            if self._cell_break is not None and self._cell_break >= start:  # a place in the words replaced
                self._cell_break = None

    def _footnote(self, start: int) -> None:
        """A footnote mark glued to the word it follows ("Metformin<sup>1</sup>") is left out: read as text it joins
        the word ("Metformin1") and the name is no longer found. An exponent (10<sup>6</sup>, m<sup>2</sup>) stays."""
        mark = "".join(self._words[start:]).strip()
        before = "".join(self._words[max(0, start - 4):start])  # the word before, not the whole paragraph
        if mark and _FOOTNOTE.fullmatch(mark) and _GLUED.search(before):
            del self._words[start:]

    def handle_data(self, data: str) -> None:
        data = data.translate(LAYOUT)  # after character references are decoded (&shy;)
        if self._in_title:
            self.title += data
        elif not self._skip:
            if self._pre:
                self._words.append(re.sub(r"\r\n?|\u2028", "\n", data))
            else:
                self._words.append(_SPACE.sub(" ", data))

    def text(self) -> str:
        self._close()
        title = _SPACE.sub(" ", self.title).strip()
        blocks = self.blocks
        if title and not _FILE_NAME.fullmatch(title) and not _same_heading(title, [*self.h1s, *blocks[:1]]):
            blocks = [title, *blocks]  # the page's title is its first heading (unless the body says it)
        return "\n\n".join(blocks)


# a title that only names the file: an EDGAR filing's 'nwt-20240311' (ticker and date) or 'd512345d8k.htm'
_FILE_NAME = re.compile(r"[a-z]{1,6}-\d{8}|[\w.-]+\.(?:html?|xhtml|txt)", re.IGNORECASE)
# what parts a page title from the site's name: "Pfizer to buy Seagen | Reuters", "Home - ACME"
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—·»:]|::)\s+")
_QUOTES = str.maketrans("‘’“”–—", "''\"\"--")


def _same_heading(title: str, headings: list[str]) -> bool:
    """Whether one of the page's headings (its <h1>s and first block) says what its title does, the title perhaps
    carrying the site's name before or after it: read both, the title sentence is in the document twice and each fact
    it gives has two sources."""
    def norm(text: str) -> str:
        return _SPACE.sub(" ", text.translate(_QUOTES)).strip(" .:!?").casefold()

    said = {norm(h) for h in headings} - {""}
    wanted = {norm(title)}
    separators = list(_TITLE_SEPARATOR.finditer(title))
    if separators:  # the title without the site's name after it, or before it (the shorter end part)
        last, first = separators[-1], separators[0]
        if len(title) - last.end() < last.start():
            wanted.add(norm(title[:last.start()]))
        if first.start() < len(title) - first.end():
            wanted.add(norm(title[first.end():]))
    return bool(wanted & said)


def decode_utf16(raw: bytes, file: Path) -> str | None:
    """The text of a file starting with a UTF-16 byte-order mark (what Windows' Notepad saves as "Unicode"), else
    None."""
    if not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        return raw.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise NLPError(f"'{file}' is not valid UTF-16 (byte {exc.start}), which its byte-order mark says it "
                       "is.") from None


def decode_html(raw: bytes, file: Path) -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with its BOM, else the charset the page declares in a ``<meta>`` tag
    or its XML declaration (Latin-1 and ASCII read as Windows-1252, as browsers do)."""
    text = decode_utf16(raw, file)
    if text is not None:
        return text
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(raw[:4096]) or _XML_ENCODING.match(raw)
    if declared:
        name = declared.group(1).decode("ascii", "replace")
        try:
            # pages saying Latin-1 or ASCII hold Windows-1252's quotes and dashes (0x80-0x9f): every browser reads them
            return raw.decode("cp1252" if name.lower().replace("_", "-") in _WINDOWS_1252 else name)
        except LookupError:
            raise NLPError(f"'{file}' declares the unknown charset '{name}'.") from None
        except UnicodeDecodeError as exc:
            raise NLPError(f"'{file}' is not valid {name} (byte {exc.start}), the charset it declares.") from None
    raise NLPError(f"'{file}' is not UTF-8 and declares no charset (<meta charset=...>): convert it to UTF-8.")


def html_text(markup: str) -> str:
    """The visible text of an HTML page, a block per paragraph; scripts, styles, the head (but its title) and page
    chrome left out (unless the page is all chrome), character references decoded."""
    for chrome in (False, True):
        parser = _HTMLText(chrome)
        parser.feed(markup)
        parser.close()
        text = parser.text()
        if parser.blocks:
            break
    return text


_ARTICLES = ("PubmedArticle", "PubmedBookArticle")


def pubmed_articles(file: Path) -> Iterator[tuple[str, str]]:
    """(PMID, text) per article of a PubMed XML file (``PubmedArticleSet``, as PubMed's "Save: PubMed XML" and
    E-utilities efetch give it, or gzipped as PubMed's baseline files are), journal articles and book chapters
    (``PubmedBookArticle``): the title, then each abstract section (``LABEL: text`` when labelled), then any other
    English abstract (a plain-language summary). The file is read an article at a time, so a file of thousands of
    articles takes little memory."""
    import gzip
    import xml.etree.ElementTree as ET
    import zlib

    n, root = 0, None
    try:
        with open_pubmed(file) as fh:
            for event, element in ET.iterparse(fh, events=("start", "end")):
                if root is None:
                    root = element
                    if root.tag != "PubmedArticleSet":
                        raise NLPError(f"'{file}': expected PubMed XML (a <PubmedArticleSet>), found <{root.tag}>.")
                if event != "end" or element.tag not in _ARTICLES:
                    continue
                n += 1
                yield _pubmed_article(element, n, file)
                root.clear()  # the articles read so far are not kept
    except ET.ParseError as exc:
        raise NLPError(f"'{file}' is not well-formed XML ({exc}).") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise NLPError(f"'{file}' is not a readable gzip file ({exc}).") from None
    if not n:
        raise NLPError(f"'{file}' holds no <PubmedArticle>.")


def suffix(path: Path) -> str:
    """A file's kind as its name ends, lower-case: ".pdf", ".xml.gz" (a gzipped PubMed file)."""
    name = path.name.lower()
    return ".xml.gz" if name.endswith(".xml.gz") else path.suffix.lower()


def open_pubmed(file: Path) -> BinaryIO:
    """A PubMed XML file opened for reading, gunzipped as it is read when it is a ``.xml.gz``."""
    import gzip

    return gzip.open(file, "rb") if suffix(file) == ".xml.gz" else open(file, "rb")


def _pubmed_article(article, n: int, file: Path) -> tuple[str, str]:
    book = article.tag == "PubmedBookArticle"
    record = article.find("BookDocument" if book else "MedlineCitation/Article")
    pmid = _text(article.find("BookDocument/PMID" if book else "MedlineCitation/PMID"))
    if not pmid:
        raise NLPError(f"'{file}': article {n} has no <PMID>.")
    # a title PubMed left out is given in the original language (VernacularTitle); a book chapter's is the chapter's
    titles = ("ArticleTitle", "Book/BookTitle") if book else ("ArticleTitle", "VernacularTitle")
    blocks = [_unbracketed(next((t for t in (_text(record.find(x)) for x in titles) if t), ""))
              if record is not None else ""]
    abstracts = [record.find("Abstract")] if record is not None else []
    abstracts += [other for other in article.iterfind("MedlineCitation/OtherAbstract" if not book else
                                                      "BookDocument/OtherAbstract")
                  if (other.get("Language") or "eng") == "eng"]
    for abstract in abstracts:
        for part in abstract.iterfind("AbstractText") if abstract is not None else ():
            body, label = _text(part), (part.get("Label") or "").strip()
            if body:
                blocks.append(f"{label}: {body}" if label else body)
    text = "\n\n".join(b for b in blocks if b)
    if not text:
        raise NLPError(f"'{file}': article PMID {pmid} has neither a title nor an abstract.")
    return pmid, text


def _unbracketed(title: str) -> str:
    """A title without the brackets PubMed puts around an English translation of one published in another language
    ("[Effect of metformin on ...]."), which read as part of the sentence; a title that only starts with a bracket
    ("[18F]FDG PET in ...") stays as it is."""
    body, stop = (title[:-1], ".") if title.endswith(".") else (title, "")
    if not (body.startswith("[") and body.endswith("]")):
        return title
    depth = 0
    for i, char in enumerate(body):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0 and i < len(body) - 1:  # the first bracket closes before the end: "[18F]FDG ... [review]"
            return title
    return body[1:-1].strip() + stop


def _text(element) -> str:
    return _SPACE.sub(" ", "".join(element.itertext())).strip().translate(LAYOUT) if element is not None else ""
