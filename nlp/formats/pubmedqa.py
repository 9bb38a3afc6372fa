"""PubMedQA JSON (``ori_pqal.json`` layout: ``{pmid: {"QUESTION", "CONTEXTS", "LABELS", "final_decision",
"LONG_ANSWER", ...}}``), read and checked in one place for ``kgnlp findings`` and ``kgnlp train qa``."""
from __future__ import annotations

import json
from pathlib import Path

from kg.errors import not_a_file
from nlp.errors import NLPError

DECISIONS = ("yes", "no", "maybe")
LAYOUT = "PubMedQA JSON ({pmid: {QUESTION, CONTEXTS: [...], final_decision, LONG_ANSWER, ...}})"


def read_pubmedqa_json(path: str | Path, labelled: bool = False) -> dict[str, dict]:
    """The questions of a PubMedQA JSON file by PMID. Each must have a ``QUESTION`` and a list of ``CONTEXTS``
    (strings, not all empty); with ``labelled`` a ``final_decision`` of yes, no or maybe too. Anything else:
    one-line NLPError naming the file (and the first bad question)."""
    path = Path(path)
    if not path.is_file():
        raise NLPError(not_a_file(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # with or without a byte-order mark
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not data:
        raise NLPError(f"{path}: expected {LAYOUT}.")
    for pmid, item in data.items():
        problem = _problem(item, labelled)
        if problem:
            raise NLPError(f"{path}: question '{pmid}' {problem}; expected {LAYOUT}.")
    return data


def _problem(item, labelled: bool) -> str:
    if not isinstance(item, dict):
        return "is not an object"
    if not isinstance(item.get("QUESTION"), str) or not item["QUESTION"].strip():
        return "has no QUESTION"
    contexts = item.get("CONTEXTS")
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        return "has no CONTEXTS list of strings"
    if not any(c.strip() for c in contexts):  # else the question alone would be read as its own passage
        return "has an empty CONTEXTS list (no passage to answer from)"
    if labelled and item.get("final_decision") not in DECISIONS:
        return f"has final_decision {item.get('final_decision')!r}, not {', '.join(DECISIONS)}"
    if item.get("LONG_ANSWER") is not None and not isinstance(item["LONG_ANSWER"], str):
        return "has a LONG_ANSWER that is not a string"
    return ""
