"""CoNLL / IOB files (``token<TAB>tag`` per line, blank line between sentences) and tag decoding."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from kg.records import Document
from nlp.errors import NLPError
from nlp.formats.records import GoldMention, LabelledDoc, read_text


def read_iob(path: str | Path, label_map: dict[str, str] | None = None) -> list[LabelledDoc]:
    """One LabelledDoc per sentence: tokens joined by single spaces, spans from the IOB2 tags."""
    path = Path(path)
    raw = read_text(path, "IOB file")
    docs: list[LabelledDoc] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line_no, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            if tokens:
                docs.append(sentence_doc(f"{path.stem}-{len(docs)}", tokens, tags, str(path), label_map))
                tokens, tags = [], []
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) < 2:
            raise NLPError(f"{path}:{line_no}: expected 'token<TAB>tag', got {line[:60]!r}.")
        tokens.append(parts[0])
        tags.append(_tag(parts[-1], path, line_no))
    if tokens:
        docs.append(sentence_doc(f"{path.stem}-{len(docs)}", tokens, tags, str(path), label_map))
    return docs


_BIOES = {"B": "B", "I": "I", "S": "B", "E": "I"}  # BIOES read as IOB2: S(ingle) begins, E(nd) continues


def _tag(tag: str, path: Path, line_no: int) -> str:
    """An IOB2 tag (``O``, ``B-type``, ``I-type``; BIOES's ``S-``/``E-`` and lower-case prefixes are read too);
    anything else, a file in another format say, is a one-line error naming the line."""
    prefix, dash, label = tag.partition("-")
    if tag == "O" or tag == "o":
        return "O"
    if dash and label and prefix.upper() in _BIOES:
        return f"{_BIOES[prefix.upper()]}-{label}"
    raise NLPError(f"{path}:{line_no}: tag {tag[:40]!r} is not O, B-<type> or I-<type> (IOB2). Is the file IOB "
                   "(token<TAB>tag per line), or another --format?")


def sentence_doc(doc_id: str, tokens: Sequence[str], tags: Sequence[str], source: str,
                 label_map: dict[str, str] | None = None) -> LabelledDoc:
    """A sentence of tagged tokens as a document (tokens joined by one space)."""
    starts: list[int] = []
    pos = 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    text = " ".join(tokens)
    mentions = []
    for first, last, label in decode_tags(tags):
        start, end = starts[first], starts[last] + len(tokens[last])
        label = (label_map or {}).get(label, label)
        mentions.append(GoldMention(start, end, text[start:end], label))
    return LabelledDoc(Document(doc_id, text, source), tuple(mentions))


def decode_tags(tags: Iterable[str]) -> list[tuple[int, int, str]]:
    """``(first, last, label)`` token spans of IOB2 tags; a stray ``I-`` starts a new entity (seqeval's default)."""
    spans: list[tuple[int, int, str]] = []
    current: list = []
    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "B" or (prefix == "I" and (not current or current[2] != label)):
            if current:
                spans.append(tuple(current))
            current = [i, i, label]
        elif prefix == "I":
            current[1] = i
        else:
            if current:
                spans.append(tuple(current))
            current = []
    if current:
        spans.append(tuple(current))
    return spans
