"""FiNER-ORD CSV (``gold_label,gold_token,doc_idx,sent_idx``), one LabelledDoc per sentence."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from nlp.errors import NLPError
from nlp.formats.iob import sentence_doc
from nlp.formats.records import LabelledDoc, read_text

TAGS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC", 5: "B-ORG", 6: "I-ORG"}
LABELS = {"PER": "Person", "LOC": "Location", "ORG": "Organization"}


def read_finer_csv(path: str | Path) -> list[LabelledDoc]:
    """Sentences grouped by ``(doc_idx, sent_idx)``; ids look like ``test-12-3``; PER/LOC/ORG become schema types."""
    path = Path(path)
    handle = io.StringIO(read_text(path, "FiNER-ORD file"), newline="")
    groups: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    with handle:
        reader = csv.DictReader(handle)
        needed = {"gold_label", "gold_token", "doc_idx", "sent_idx"}
        if not reader.fieldnames or not needed <= set(reader.fieldnames):
            raise NLPError(f"{path}: header must have {sorted(needed)}, got {reader.fieldnames}. Is it FiNER-ORD CSV?")
        for row_no, row in enumerate(reader, 2):
            try:
                tag = TAGS[int(row["gold_label"])]
            except (KeyError, ValueError):
                raise NLPError(f"{path}:{row_no}: gold_label {row['gold_label']!r} is not 0-6.") from None
            token = (row["gold_token"] or "").strip()
            if not token:
                continue  # empty tokens carry no text; skipping keeps offsets exact
            toks, tags = groups.setdefault((row["doc_idx"], row["sent_idx"]), ([], []))
            toks.append(token)
            tags.append(tag)
    return [sentence_doc(f"{path.stem}-{d}-{s}", toks, tags, str(path), LABELS)
            for (d, s), (toks, tags) in groups.items()]
