"""What the fusion benchmark's biomedical graph can say about PubMedQA questions.

    python benchmarks/pubmedqa_graph_reach.py            # the official 500 test questions
    python benchmarks/pubmedqa_graph_reach.py --quick    # the first 100 of them

Links each question with the fused models' linker (longest match over the graph's names, `fusion.context.
NameLinker`) against the graph `python benchmarks/fusion.py prepare` built (BC5CDR training names + Hetionet
edges), and counts the questions with a linked entity, with two or more, and with an edge of the graph between
two of their entities: the only questions whose answer a one-hop fact could speak to. The last stdout line is
one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "datasets" / "pubmedqa").resolve()
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--prepared", default=str(ROOT / "benchmarks" / ".work" / "fusion"))
    ap.add_argument("--graph", default="bio", choices=("bio", "pqa"), help="bio: BC5CDR + Hetionet; pqa: bio + "
                    "the ingested PQA-L abstracts (`benchmarks/fusion.py prepare --graphs pqa`)")
    args = ap.parse_args()
    from fusion.context import NameLinker
    from kg.stores.sqlite import SQLiteStore

    db = Path(args.prepared) / f"{args.graph}.db"
    if not db.exists():
        sys.exit(f"error: {db} is missing; run `python benchmarks/fusion.py prepare --graphs {args.graph}` first.")
    store = SQLiteStore.open(db, create=False)
    linker = NameLinker.from_store(store)
    data = json.loads((DATA / "ori_pqal.json").read_text(encoding="utf-8"))
    test_ids = sorted(json.loads((DATA / "test_ground_truth.json").read_text(encoding="utf-8")))
    if args.quick:
        test_ids = test_ids[:100]
    linked = two = mentions = 0
    with_edge, labels, examples = 0, Counter(), []
    for k in test_ids:
        question = data[k]["QUESTION"]
        found = linker.link(question)
        ids = {m.entity_id for m in found}
        mentions += len(found)
        linked += bool(found)
        if len(ids) < 2:
            continue
        two += 1
        edges = sorted({t.key for e in ids for t in store.neighbours(e)
                        if {t.head_id, t.tail_id} <= ids and t.head_id != t.tail_id})
        if edges:
            with_edge += 1
            labels[data[k]["final_decision"]] += 1
            examples.append({"question": question, "edges": [list(e) for e in edges[:3]]})
    print(json.dumps({"benchmark": "pubmedqa_graph_reach", "quick": args.quick, "graph": args.graph, "questions": len(test_ids),
                      "graph_entities": store.stats().entities, "questions_linked": linked,
                      "mentions": mentions, "questions_with_2_entities": two,
                      "questions_with_an_edge_between_their_entities": with_edge,
                      "their_labels": dict(labels), "examples": examples[:5]}))


if __name__ == "__main__":
    main()
