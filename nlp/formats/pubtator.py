"""PubTator (BC5CDR): title/abstract lines, mention lines with MeSH ids, CID relation lines."""
from __future__ import annotations

from pathlib import Path

from kg.records import Document
from nlp.errors import NLPError
from nlp.formats.records import GoldMention, GoldRelation, LabelledDoc, read_text

LABELS = {"Chemical": "Chemical", "Disease": "Disease"}
RELATIONS = {"CID": "CAUSES"}


def read_pubtator(path: str | Path) -> list[LabelledDoc]:
    """Documents of a PubTator file; text is ``title + " " + abstract`` as the offsets expect."""
    path = Path(path)
    text = _read(path)
    docs: list[LabelledDoc] = []
    for block_no, block in enumerate(text.replace("\r\n", "\n").split("\n\n")):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if lines:
            docs.append(_parse_block(lines, path, block_no))
    return docs


def _read(path: Path) -> str:
    return read_text(path, "PubTator file", "Pass the path of a *.PubTator.txt file.")


def _parse_block(lines: list[str], path: Path, block_no: int) -> LabelledDoc:
    title = abstract = None
    pmid = ""
    mentions: list[GoldMention] = []
    relations: list[GoldRelation] = []
    for line in lines:
        if "|t|" in line[:40] and title is None:
            pmid, _, title = line.partition("|t|")
        elif "|a|" in line[:40] and abstract is None:
            pmid, _, abstract = line.partition("|a|")
        else:
            cols = line.split("\t")
            if len(cols) >= 4 and cols[1] in RELATIONS:
                relations.append(GoldRelation(cols[2], RELATIONS[cols[1]], cols[3]))
            elif len(cols) >= 6:
                label = LABELS.get(cols[4], cols[4])
                ids = tuple(i for i in cols[5].split("|") if i and i != "-1")
                if not (cols[1].strip().isdigit() and cols[2].strip().isdigit()):
                    raise NLPError(f"{path}, document {block_no + 1}: mention line {line[:60]!r} has offsets "
                                   f"{cols[1]!r} and {cols[2]!r}; they must be whole numbers (start, end).")
                mentions.append(GoldMention(int(cols[1]), int(cols[2]), cols[3], label, ids))
            else:
                raise NLPError(
                    f"{path}, document {block_no + 1}: cannot read line {line[:60]!r}. Expected "
                    "'PMID|t|title', 'PMID|a|abstract', a 6-column mention or a 4-column relation line."
                )
    if title is None:
        raise NLPError(f"{path}, document {block_no + 1}: no 'PMID|t|title' line. Is this a PubTator file?")
    text = title + " " + (abstract or "")
    for m in mentions:
        if text[m.start:m.end] != m.text:
            raise NLPError(
                f"{path}, document {pmid}: mention {m.text!r} at {m.start}-{m.end} does not match the text "
                f"({text[m.start:m.end]!r}). Offsets must index 'title + \" \" + abstract'."
            )
    return LabelledDoc(Document(pmid.strip(), text, str(path)), tuple(mentions), tuple(relations))
