"""The drug-name stems (nlp/drug_names.py) on BC5CDR: how precise the rule is, what it finds that a graph does not
know, and what it does as the last recogniser after the graph's names.

    python benchmarks/drug_names.py [--quick] [--split test] [--words /usr/share/dict/american-english-insane ...]

- the rule alone against the split's Chemical mentions (exact span: precision, recall);
- the same on the mentions whose name is not among train+dev's names (what a graph built from them does not know);
- graph names (every train+dev name, as benchmarks/extraction.py's graph-names layer) before and after the rule fills
  the words they left (exact span and type, micro and Chemical);
- with --words, every word of those word lists (one a line) that the rule takes, to review for a stop list.
--quick reads the first 50 documents. The last stdout line is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def rule_alone(docs, seen: set[str]) -> dict:
    """Precision and recall of the rule on the Chemical mentions, all of them and those whose name is unseen."""
    from nlp.drug_names import drug_name_mentions
    from nlp.evaluation import PRF

    out = {}
    for part, keep in (("all", lambda text: True), ("unseen", lambda text: text.lower() not in seen)):
        tp = fp = gold = 0
        for d in docs:
            chem = {(m.start, m.end) for m in d.mentions if m.label == "Chemical" and keep(m.text)}
            found = [(m.start, m.end) for m in drug_name_mentions(d.doc.text) if keep(m.text)]
            tp += sum(span in chem for span in found)
            fp += sum(span not in chem for span in found)
            gold += len(chem)
        s = PRF.of(tp, fp, gold - tp)
        out[part] = {"precision": s.precision, "recall": s.recall, "tp": tp, "fp": fp, "gold": gold}
    return out


def with_graph_names(docs, train_docs) -> dict:
    """Micro and Chemical P/R/F1 of the graph names alone, and with the rule filling what they left."""
    from extraction import gazetteer_for, ner_row, predict_all

    from kg.records import Entity
    from nlp.drug_names import add_drug_names

    seen = {(m.text, m.label) for d in train_docs for m in d.mentions}
    names = gazetteer_for([Entity(f"{lab}:{txt.lower()}", txt, lab) for txt, lab in seen])
    pred = predict_all(names, docs)
    filled = [add_drug_names(d.doc.text, p) for d, p in zip(docs, pred)]
    out = {}
    for key, mentions in (("graph names", pred), ("graph names + drug stems", filled)):
        out[key] = ner_row([d.mentions for d in docs], mentions)
    return out


def word_list_hits(paths: list[Path]) -> list[str]:
    """The words of the lists that the rule takes whole."""
    from nlp.drug_names import drug_name_mentions

    hits = set()
    for path in paths:
        for line in path.read_text(encoding="latin-1").splitlines():
            word = line.strip()
            found = drug_name_mentions(word)
            if found and found[0].text == word:
                hits.add(word.lower())
    return sorted(hits)


def main() -> None:
    from extraction_train import split

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the first 50 documents of each split")
    ap.add_argument("--split", default="test", choices=("dev", "test"))
    ap.add_argument("--words", type=Path, nargs="*", default=[], help="word lists to review (one word a line)")
    a = ap.parse_args()
    cut = 50 if a.quick else None
    train = split("bc5cdr", "train")[:cut] + (split("bc5cdr", "dev")[:cut] if a.split == "test" else [])
    docs = split("bc5cdr", a.split)[:cut]
    seen = {m.text.lower() for d in train for m in d.mentions}
    result = {"benchmark": "drug_names", "split": a.split, "documents": len(docs),
              "rule": rule_alone(docs, seen), "pipeline": with_graph_names(docs, train)}
    if a.words:
        hits = word_list_hits(a.words)
        result["word_list_hits"] = len(hits)
        print("\n".join(hits), file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
