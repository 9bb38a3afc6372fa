"""Read documents to ingest: ``.txt``, ``.md``, ``.jsonl``, HTML, PubMed XML and PDF files, or folders of them.

Every problem is an ``NLPError`` naming the file (and line), raised before anything is stored.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from kg.errors import is_unicode, not_utf8
from kg.files import jsonl_lines
from kg.records import Document
from nlp.doc_formats import (HTML_SUFFIXES, PDF_SUFFIXES, PUBMED_SUFFIXES, decode_html, decode_utf16, html_text,
                              open_pubmed, pubmed_articles, suffix)
from nlp.errors import NLPError
from nlp.form_captions import is_sec_filing, without_form_captions
from nlp.front_matter import without_front_matter
from nlp.pdf_text import pdf_text
from nlp.references import without_references

TEXT_SUFFIXES = (".txt", ".md")
MAX_CHARS = 1_000_000  # spaCy's own limit per text (its parser's memory); longer documents must be split
RESERVED_PREFIXES = ("seed:", "import:")  # sources of seeded and imported facts, not documents
FINDINGS_SUFFIX = "#findings"  # `kgnlp findings` stores a document's findings as document '<id>#findings'
SUFFIXES = (*TEXT_SUFFIXES, ".jsonl", *HTML_SUFFIXES, *PUBMED_SUFFIXES, *PDF_SUFFIXES)
# files of several documents (a PDF or an HTML page longer than MAX_CHARS too): a document's source is 'FILE:N'
MULTI_SUFFIXES = (".jsonl", *PUBMED_SUFFIXES, *PDF_SUFFIXES, *HTML_SUFFIXES)
_PARTED_SUFFIXES = (*PDF_SUFFIXES, *HTML_SUFFIXES)  # files read in parts when they are too long (see _in_parts)
PMID_PREFIX = "PMID:"  # a PubMed article's document id: 'PMID:<its PMID>'
KINDS = ".txt, .md, .jsonl, .html, PubMed .xml (or .xml.gz) or .pdf"
# office files a user may hand over, told how to make them readable
_OFFICE = {**dict.fromkeys((".doc", ".docx", ".odt", ".rtf", ".pages"), "a word-processor document"),
           **dict.fromkeys((".ppt", ".pptx", ".odp", ".key"), "a presentation"),
           **dict.fromkeys((".xls", ".xlsx", ".ods"), "a spreadsheet")}
_SAVE_AS = "as PDF, HTML or plain text (.txt)"


@dataclass(frozen=True)
class LoadedDocument:
    """A document and the hash of its content, used to skip what is already stored."""

    document: Document
    sha256: str

    @classmethod
    def of(cls, document: Document) -> "LoadedDocument":
        """A document read some other way (not from a file), with its content hash."""
        return cls(document, content_hash(document.text))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def collect_files(paths: list[Path], not_read: list[Path] | None = None) -> list[Path]:
    """The files to read: given files, and supported files under given folders (sorted); a folder's other files,
    except hidden ones, are added to ``not_read`` when it is given."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise NLPError(f"No such file or folder: '{path}'.")
        if path.is_dir():
            every = sorted(p for p in path.rglob("*") if p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            found = [p for p in every if suffix(p) in SUFFIXES and _in_folder_kind(p)]
            if not_read is not None:
                chosen = set(found)
                not_read.extend(p for p in every if p not in chosen)
            if not found:
                raise NLPError(f"Folder '{path}' has no {KINDS} files.")
            files.extend(found)
        elif suffix(path) in SUFFIXES:
            files.append(path)
        elif path.suffix.lower() in _OFFICE:
            raise NLPError(f"Cannot read '{path}': {_OFFICE[path.suffix.lower()]} is not read; save it {_SAVE_AS} "
                           "and ingest that.")
        else:
            raise NLPError(f"Cannot read '{path}': expected a {KINDS} file, or a folder of them.")
    # a file named twice (a folder and a file in it, `a.txt ./a.txt`) is read once, not refused as a duplicate id
    once: dict[Path, Path] = {}
    for file in files:
        once.setdefault(file.resolve(), file)
    return list(once.values())


def office_files_note(files: Sequence[Path]) -> str | None:
    """What to do with the word-processor, presentation and spreadsheet files among ``files`` (a folder's files that
    were not read), as the refusal of one such file says it; None when there are none."""
    kinds = sorted({f.suffix.lower() for f in files if f.suffix.lower() in _OFFICE})
    if not kinds:
        return None
    return (f"Word-processor, presentation and spreadsheet files ({', '.join(kinds)}) are not read: "
            f"save each {_SAVE_AS} and ingest that.")


def _in_folder_kind(file: Path) -> bool:
    """A folder's .xml file is read only when it is PubMed XML (a folder of filings may hold other XML); a file
    named on the command line is always read, and refused if it is not."""
    if suffix(file) not in PUBMED_SUFFIXES:
        return True
    try:
        with open_pubmed(file) as f:
            return b"<PubmedArticleSet" in f.read(8192)
    except (OSError, EOFError, zlib.error):  # a damaged .xml.gz: read, and refused naming it
        return True


def gone_documents(stored: dict[str, str], paths: Sequence[Path], read: set[str]) -> list[str]:
    """Stored documents (id -> source) that were read from ``paths`` (the file itself, or a file under a folder)
    but are not among the ids read from them now (``read``): a deleted or renamed file, a line gone from a .jsonl
    file, an article gone from a PubMed XML file. A document's findings ('<id>#findings') go with it. A relative source
    is taken from the current folder."""
    roots = [p.resolve() for p in paths]
    gone = []
    for doc_id, source in stored.items():
        head, sep, line = source.rpartition(":")
        file = head if sep and line.isdigit() and head.lower().endswith(MULTI_SUFFIXES) else source
        if not file or doc_id.removesuffix(FINDINGS_SUFFIX) in read:
            continue
        where = Path(file).resolve()
        if any(where == root or where.is_relative_to(root) for root in roots):
            gone.append(doc_id)
    return gone


def load_documents(paths: list[Path], not_read: list[Path] | None = None) -> list[LoadedDocument]:
    """Every document of the given paths, checked: all files are read and validated first (``not_read``: see
    :func:`collect_files`)."""
    docs: list[LoadedDocument] = []
    seen: dict[str, Document] = {}
    for file in collect_files(paths, not_read):
        for doc in _read_file(file):
            _check(doc)
            first = seen.get(doc.id)
            if first is not None:
                if doc.id.startswith(PMID_PREFIX):
                    if doc.text == first.text:
                        continue  # one article in two overlapping PubMed downloads (or twice in one): read once
                    raise NLPError(f"PubMed article '{doc.id}' appears twice with a different title or abstract "
                                   f"({first.source} and {doc.source}): keep one version of it.")
                raise NLPError(f"Document id '{doc.id}' appears twice ({first.source} and {doc.source}). "
                               "Ids must be unique.")
            seen[doc.id] = doc
            docs.append(LoadedDocument.of(doc))
    return docs


def _check(doc: Document) -> None:
    # a file name that is not UTF-8 reaches Python as lone surrogates, as does a "\\udxxx" escape in a JSON id: no
    # store can hold either, so say so before anything is written
    for what, value in (("the file name is not UTF-8. Rename the file", doc.source),
                        (f"the document id {doc.id!a} is not valid Unicode. Change the id", doc.id)):
        if not is_unicode(value):
            shown = (doc.source or "").encode("utf-8", "backslashreplace").decode("utf-8")
            raise NLPError(f"{shown}: {what}.")
    where = doc.source or doc.id
    if doc.id.startswith(RESERVED_PREFIXES):
        raise NLPError(f"{where}: document id '{doc.id}' is reserved (ids starting with "
                       f"{' or '.join(RESERVED_PREFIXES)} name the sources of seeded and imported facts).")
    if doc.id.endswith(FINDINGS_SUFFIX):  # it would replace (or be replaced by) another document's findings
        raise NLPError(f"{where}: document id '{doc.id}' is reserved (ids ending in '{FINDINGS_SUFFIX}' hold what "
                       f"`kgnlp findings` read in document '{doc.id.removesuffix(FINDINGS_SUFFIX)}'). Rename the file "
                       "or change the id.")
    if len(doc.text) > MAX_CHARS:
        raise NLPError(f"{where}: document '{doc.id}' has {len(doc.text):,} characters; the limit is "
                       f"{MAX_CHARS:,}. Split it into several documents.")
    try:
        doc.text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NLPError(f"{where}: the text holds an unpaired surrogate ({doc.text[exc.start]!a} at "
                       f"{exc.start}), which is not valid Unicode.") from None


def _read_file(file: Path) -> Iterator[Document]:
    kind = suffix(file)
    if kind in PDF_SUFFIXES:
        yield from _in_parts(file, without_references(pdf_text(file)))
        return
    if kind in PUBMED_SUFFIXES:
        for n, (pmid, text) in enumerate(pubmed_articles(file), 1):
            yield Document(id=f"{PMID_PREFIX}{pmid}", text=text, source=f"{file}:{n}")
        return
    raw = file.read_bytes()
    if kind in HTML_SUFFIXES:
        text = without_references(without_form_captions(html_text(decode_html(raw, file))))
        if not text.strip():
            raise NLPError(f"'{file}' has no visible text.")
        yield from _in_parts(file, text)
        return
    text = decode_utf16(raw, file)  # Notepad's "Unicode"
    if text is None:
        if b"\x00" in raw[:8192]:
            raise NLPError(f"'{file}' looks like a binary file, expected UTF-8 text.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NLPError(not_utf8(f"'{file}'", exc)) from None
    if kind == ".jsonl":
        yield from _read_jsonl(file, text)
        return
    if kind == ".md":
        text = without_front_matter(text)
    text = _without_apparatus(text)
    if not text.strip():
        raise NLPError(f"'{file}' is empty.")
    yield Document(id=file.stem, text=text, source=str(file))


def _without_apparatus(text: str) -> str:
    """A plain text without a trailing reference list (``nlp.references``) and, when it is an EDGAR filing, without
    its cover page's field captions and lone page numbers (``nlp.form_captions``), as an HTML page is read."""
    if is_sec_filing(text):
        text = without_form_captions(text)
    return without_references(text)


def _in_parts(file: Path, text: str) -> Iterator[Document]:
    """A PDF's or HTML page's text as one document, or, when it is longer than spaCy reads at once (a 400-page
    report, a 10-K filing), as documents 'STEM#1', 'STEM#2', ... (sources 'FILE:1', ...) of whole paragraphs: a text
    file can be split by hand, a PDF cannot."""
    if len(text) <= MAX_CHARS:
        yield Document(id=file.stem, text=text, source=str(file))
        return
    parts, part = [], ""
    for piece in _pieces(text):
        if part and len(part) + len(piece) > MAX_CHARS:
            parts.append(part)
            part = ""
        part += piece
    parts.append(part)
    for n, part in enumerate(parts, 1):
        yield Document(id=_part_id(file.stem, n), text=part.strip(), source=_part_source(str(file), n))


def _part_id(stem: str, n: int) -> str:
    return f"{stem}#{n}"


def _part_source(file: str, n: int) -> str:
    return f"{file}:{n}"


def continues(previous: Document | None, doc: Document) -> bool:
    """Whether ``doc`` is the part of a long PDF or HTML file (see :func:`_in_parts`) that comes after ``previous``:
    what the file's earlier parts defined ("(the “Company”)") still holds in it."""
    file, _, number = doc.source.rpartition(":")
    if previous is None or not number.isdigit() or int(number) < 2 or not file.lower().endswith(_PARTED_SUFFIXES):
        return False
    n = int(number)
    stem = doc.id.removesuffix(f"#{n}")
    return (stem != doc.id and previous.id == _part_id(stem, n - 1)
            and previous.source == _part_source(file, n - 1))


def _pieces(text: str, separators: tuple[str, ...] = ("\n\n", "\n", ". ", " ")) -> Iterator[str]:
    """``text`` cut after its paragraphs (a blank line); one too long for a document after its lines, one of those
    after its sentences, then its words: each piece (but a single word) at most MAX_CHARS long."""
    if len(text) <= MAX_CHARS or not separators:
        yield text
        return
    pieces = text.split(separators[0])
    for n, piece in enumerate(pieces, 1):
        yield from _pieces(piece + (separators[0] if n < len(pieces) else ""), separators[1:])


def _read_jsonl(file: Path, text: str) -> Iterator[Document]:
    lines = [(n, line) for n, line in enumerate(jsonl_lines(text), 1) if line.strip()]
    if not lines:
        raise NLPError(f"'{file}' is empty.")
    for n, line in lines:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise NLPError(f"{file}:{n}: malformed JSON ({exc.msg}). Each line must be {{\"id\": ..., \"text\": ...}}.") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or "id" not in obj:
            raise NLPError(f"{file}:{n}: expected an object with string \"text\" and an \"id\".")
        if not obj["text"].strip():
            raise NLPError(f"{file}:{n}: \"text\" is empty.")
        doc_id = obj["id"]
        if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or not str(doc_id).strip():
            raise NLPError(f"{file}:{n}: \"id\" must be a non-empty string or a number, not {json.dumps(doc_id)}.")
        yield Document(id=str(doc_id), text=obj["text"], source=f"{file}:{n}")
