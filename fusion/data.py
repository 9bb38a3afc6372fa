"""Task files: classification JSONL, QA JSONL and PubMedQA JSON, read into small frozen records."""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from fusion.errors import FusionError
from kg.errors import not_a_file
from nlp.formats.pubmedqa import DECISIONS


@dataclass(frozen=True)
class TextExample:
    text: str
    labels: tuple[str, ...]  # one label, or several for multilabel data
    pair: str | None = None  # second text (e.g. the PubMedQA abstract)


@dataclass(frozen=True)
class SpanExample:
    question: str
    context: str
    answer: str
    answer_start: int  # character offset in context, -1 when the answer is not in it


def read_classification(path: str | Path) -> tuple[list[TextExample], bool]:
    """``{"text", "label"}`` or ``{"text", "labels": [...]}`` per line (``[]``: a text with none of the labels, as
    multilabel data has); returns ``(examples, multilabel)``."""
    rows = _jsonl(path)
    out, multi = [], False
    for n, row in enumerate(rows, 1):
        if "text" not in row or not ("label" in row or "labels" in row):
            raise FusionError(f"{path}:{n}: expected {{\"text\", \"label\"}} or {{\"text\", \"labels\"}}, got keys "
                              f"{sorted(row)}.")
        given = row["labels"] if "labels" in row else [row["label"]]
        multi = multi or "labels" in row
        bad = (not _text(row["text"]) or not isinstance(given, list)  # [] : a multilabel text with none of them
               or not all(_label(x) for x in given) or not (row.get("pair") is None or _text(row["pair"])))
        if bad:
            raise FusionError(f"{path}:{n}: expected a non-empty \"text\" string, a \"label\" (a string or number) "
                              "or \"labels\" (a list of them, [] for none), and an optional \"pair\" text; got "
                              f"{json.dumps(row)[:80]}.")
        out.append(TextExample(row["text"], tuple(_label_name(x) for x in given), row.get("pair")))
    return out, multi


def _jsonl_row(path: Path) -> bool:
    """The file's first line is a QA row of its own (JSONL in a .json file), not the start of PubMedQA JSON."""
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        row = json.loads(first)
    except ValueError:
        return False
    return isinstance(row, dict) and "question" in row


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _label(value) -> bool:
    return _text(value) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                            and math.isfinite(value))


def _label_name(value) -> str:
    """A label as the model names it: a number written 1 or 1.0 is one label, "1"."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def read_qa(path: str | Path) -> tuple[list, str]:
    """QA data and its kind: ``span`` for ``{"question","context","answer"}`` JSONL, ``yesno`` for PubMedQA JSON
    (``{pmid: {"QUESTION","CONTEXTS","final_decision"}}``) or JSONL whose answers are all yes/no/maybe."""
    path = Path(path)
    if not path.is_file():
        raise FusionError(not_a_file(path))
    if path.suffix == ".json" and not _jsonl_row(path):  # PubMedQA JSON (read and checked by its reader)
        return read_pubmedqa(path), "yesno"
    rows = _jsonl(path)
    for n, row in enumerate(rows, 1):
        if not {"question", "context", "answer"} <= set(row):
            raise FusionError(f"{path}:{n}: expected {{\"question\", \"context\", \"answer\"}}, got keys {sorted(row)}.")
        if not (_text(row["question"]) and _text(row["context"]) and _text(row["answer"])):
            raise FusionError(f"{path}:{n}: \"question\", \"context\" and \"answer\" must be non-empty strings.")
    if rows and all(str(r["answer"]).lower() in DECISIONS for r in rows):
        return [TextExample(r["question"], (str(r["answer"]).lower(),), r["context"]) for r in rows], "yesno"
    out = []
    for n, r in enumerate(rows, 1):
        ctx, ans = r["context"], r["answer"]
        start = r.get("answer_start", ctx.find(ans))
        if "answer_start" in r and not (isinstance(start, int) and not isinstance(start, bool)
                                        and ctx[start:start + len(ans)] == ans and start >= 0):
            raise FusionError(f"{path}:{n}: \"answer_start\" {json.dumps(start)[:20]} is not where the answer "
                              f"{json.dumps(ans)[:40]} starts in the context (a character offset; omit it to find "
                              "the answer's first occurrence).")
        out.append(SpanExample(r["question"], ctx, ans, start))
    return out, "span"


def read_pubmedqa(path: str | Path, ids: set[str] | None = None, long_answers: bool = False) -> list[TextExample]:
    """PubMedQA (``ori_pqal.json`` layout): question, joined abstract contexts, final decision.

    ``long_answers``: also one example per question whose text is the abstract's conclusion (``LONG_ANSWER``,
    PubMedQA's reasoning-free setting), for training only: a test input never has its conclusion."""
    return pubmedqa_examples(_pubmedqa(path), ids, long_answers)


def pubmedqa_train_dev(path: str | Path, dev_fraction: float, seed: int,
                       long_answers: bool = False) -> tuple[list[TextExample], list[TextExample]]:
    """PubMedQA JSON split by question (seeded): training examples, with each training question's conclusion
    as a second example when ``long_answers``, and dev examples, which never have conclusions. Long answers from
    a file that has none (JSONL QA rows, or PubMedQA JSON without ``LONG_ANSWER``) are refused, not skipped."""
    path = Path(path)
    if long_answers and path.is_file() and (path.suffix != ".json" or _jsonl_row(path)):
        raise FusionError(f"{path} holds QA rows (JSONL): long answers are the LONG_ANSWER conclusions of PubMedQA "
                          "JSON ({pmid: {QUESTION, CONTEXTS, final_decision, LONG_ANSWER}}); train without them.")
    data = _pubmedqa(path)
    if long_answers and not any(v.get("LONG_ANSWER") for v in data.values()):
        raise FusionError(f"{path}: no question has a LONG_ANSWER, so long answers would add nothing; train "
                          "without them.")
    ids = sorted(data)
    random.Random(seed).shuffle(ids)
    n = max(1, int(len(ids) * dev_fraction)) if dev_fraction > 0 and len(ids) >= 5 else 0
    return pubmedqa_examples(data, set(ids[n:]), long_answers), pubmedqa_examples(data, set(ids[:n]))


def pubmedqa_examples(data: dict, ids: set[str] | None = None, long_answers: bool = False) -> list[TextExample]:
    """:func:`read_pubmedqa` over an already parsed ``ori_pqal.json``."""
    chosen = [v for k, v in data.items() if ids is None or k in ids]
    out = [TextExample(v["QUESTION"], (v["final_decision"],), " ".join(v["CONTEXTS"])) for v in chosen]
    if long_answers:
        out += [TextExample(v["QUESTION"], (v["final_decision"],), v["LONG_ANSWER"]) for v in chosen
                if v.get("LONG_ANSWER")]
    return out


def _pubmedqa(path: str | Path) -> dict:
    from nlp.errors import NLPError
    from nlp.formats.pubmedqa import read_pubmedqa_json  # one reader (and check) for PubMedQA JSON

    try:
        return read_pubmedqa_json(path, labelled=True)
    except NLPError as exc:
        raise FusionError(str(exc)) from None


def _jsonl(path: str | Path) -> list[dict]:
    from nlp.evaluation import read_jsonl  # one reader for every labelled JSONL file

    return read_jsonl(Path(path))
