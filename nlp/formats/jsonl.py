"""Labelled JSONL: one ``{"id"?, "text", "entities": [{"start","end","label"}]}`` object per line."""
from __future__ import annotations

import json
from pathlib import Path

from kg.files import jsonl_lines
from kg.records import Document
from nlp.errors import NLPError
from nlp.formats.records import GoldMention, LabelledDoc, read_text


def read_labelled_jsonl(path: str | Path) -> list[LabelledDoc]:
    """Labelled documents; spans are character offsets into ``text`` and are checked."""
    path = Path(path)
    lines = jsonl_lines(read_text(path, "JSONL file"))
    docs, labelled = [], False
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            text = obj["text"]
            ents = obj.get("entities", [])
            labelled = labelled or "entities" in obj
            if not isinstance(text, str):
                raise TypeError("text")
            mentions = []
            for e in ents:
                start, end, label = int(e["start"]), int(e["end"]), str(e["label"])
                if not 0 <= start < end <= len(text):
                    raise NLPError(f"{path}:{line_no}: span {start}-{end} is outside the text (length {len(text)}).")
                ids = tuple(str(i) for i in e.get("ids", ()))
                mentions.append(GoldMention(start, end, text[start:end], label, ids))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise NLPError(
                f"{path}:{line_no}: malformed line ({exc.__class__.__name__}: {exc}). Expected "
                '{"text": "...", "entities": [{"start": 0, "end": 4, "label": "Chemical"}]}.'
            ) from None
        doc_id = str(obj.get("id", f"{path.stem}-{line_no}"))
        docs.append(LabelledDoc(Document(doc_id, text, str(path)), tuple(sorted(mentions, key=lambda m: m.start))))
    if docs and not labelled:  # e.g. a classification file: scored or trained on, it would mean "no entities"
        raise NLPError(f"{path}: no line has \"entities\", so it is not labelled NER data. Expected "
                       '{"text": "...", "entities": [{"start": 0, "end": 4, "label": "Chemical"}]} per line '
                       '("entities": [] for a text with none).')
    return docs


def write_labelled_jsonl(docs: list[LabelledDoc], path: str | Path) -> None:
    """Write labelled documents in the same format (useful to convert any corpus to JSONL)."""
    with Path(path).open("w", encoding="utf-8") as out:
        for d in docs:
            ents = [{"start": m.start, "end": m.end, "label": m.label, **({"ids": list(m.ids)} if m.ids else {})}
                    for m in d.mentions]
            out.write(json.dumps({"id": d.doc.id, "text": d.doc.text, "entities": ents}, ensure_ascii=False) + "\n")
