"""End to end on our own sample data: ingest data/documents with the seed graph, then score facts, QA and NER
against data/labelled/ (what `kgnlp eval relations|qa|ner` print). --quick is accepted and changes nothing:
the set is already small.

    python benchmarks/sample_data.py [--quick]

The last stdout line is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data"  # documents/, seed/ and labelled/ (a test points it at a smaller copy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="accepted like every benchmark's; the run is already small")
    ap.parse_args()
    from kg.seed import read_seed
    from kg.stores.sqlite import SQLiteStore
    from nlp.evaluation import evaluate_ner, evaluate_qa, evaluate_relations
    from nlp.ingest import ingest_paths

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore.open(Path(tmp) / "graph.db")
        seed = read_seed(DATA / "seed")
        store.add(seed.triples, seed.entities)
        report = ingest_paths(store, [DATA / "documents"])
        facts = evaluate_relations(store, DATA / "labelled" / "doc_triples.jsonl")
        qa = evaluate_qa(store, DATA / "labelled" / "qa.jsonl")
        ner = evaluate_ner(store, DATA / "labelled" / "ner.jsonl")
        store.close()
    print(json.dumps({"benchmark": "sample_data", "documents": report.documents, "ingest_seconds": report.seconds,
                      "facts": asdict(facts), "qa": {"questions": qa.questions, "answered": qa.answered,
                                                     "hits@1": qa.hits_at[1], "exact_match": qa.exact_match},
                      "ner": {"all": asdict(ner.overall),
                              **{label: asdict(prf) for label, prf in ner.by_label.items()}}}))


if __name__ == "__main__":
    main()
