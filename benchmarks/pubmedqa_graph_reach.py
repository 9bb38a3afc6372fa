"""What the fusion benchmark's biomedical graph can say about PubMedQA questions.

    python benchmarks/pubmedqa_graph_reach.py            # the official 500 test questions
    python benchmarks/pubmedqa_graph_reach.py --quick    # the first 100 of them (prepares the bio graph if missing)

Links each question with the fused models' linker (longest match over the graph's names, `fusion.context.
NameLinker`) against the graph `python benchmarks/fusion.py prepare` built (BC5CDR training names + Hetionet
edges), and counts the questions with a linked entity, with two or more, and with an edge of the graph between
two of their entities: the only questions whose answer a one-hop fact could speak to. The last stdout line is
one JSON object with the figures.

``--graph results`` (the findings read in PQA-L's results sections, `fusion.py prepare --graphs results`) counts
what a fused model with ``--retrieved 2`` reads instead: the two facts most like each question, from the whole
index (how many come from the question's own abstract) and from its own abstract only (``--retrieve-from
passage``), and how well the top fact alone answers (no when it signals no effect, else yes): a rule, for scale.
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


def read_pqal() -> tuple[dict, list[str]]:
    """PQA-L's questions and its test ids (sorted), or a one-line error when the data is not there."""
    for name in ("ori_pqal.json", "test_ground_truth.json"):
        if not (DATA / name).is_file():
            sys.exit(f"error: PubMedQA data not found: {DATA / name} (expected ../shared/datasets/pubmedqa/ next to "
                     "the repo)")
    data = json.loads((DATA / "ori_pqal.json").read_text(encoding="utf-8"))
    return data, sorted(json.loads((DATA / "test_ground_truth.json").read_text(encoding="utf-8")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--prepared", default=str(ROOT / "benchmarks" / ".work" / "fusion"))
    ap.add_argument("--graph", default="bio", choices=("bio", "pqa", "results"), help="bio: BC5CDR + Hetionet; pqa: "
                    "bio + the ingested PQA-L abstracts (`benchmarks/fusion.py prepare --graphs pqa`); results: the "
                    "findings of PQA-L's results sections (`--graphs results`)")
    args = ap.parse_args()
    if args.graph == "results":
        return results_reach(args)
    from fusion.context import NameLinker
    from kg.stores.sqlite import SQLiteStore

    from benchmarks.fusion import need_prepared

    db = Path(args.prepared) / f"{args.graph}.db"
    need_prepared(Path(args.prepared), (db.name,), "pubmedqa_graph_reach", args.quick, args.graph)
    store = SQLiteStore.open(db, create=False)
    linker = NameLinker.from_store(store)
    data, test_ids = read_pqal()
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


def results_reach(args) -> None:
    """The ``--graph results`` figures (module doc)."""
    from fusion.context import build_kg_context
    from kg.schema import load_schema
    from kg.stores.sqlite import SQLiteStore
    from nlp.retrieval import Retriever

    prepared = Path(args.prepared)
    if not (prepared / "results-ws").is_dir():
        sys.exit("error: no results graph; run `python benchmarks/fusion.py prepare --graphs results` first.")
    store = SQLiteStore.open(prepared / "results.db", create=False)
    retriever = Retriever.open(prepared / "results-ws", store, schema=load_schema(prepared / "results-schema.toml"),
                               on_drift="error")
    data, test_ids = read_pqal()
    if args.quick:
        test_ids = test_ids[:100]
    own = with_fact = 0
    rule, gold, by_signal = [], [], Counter()
    for k in test_ids:
        item = data[k]
        abstract = " ".join(item["CONTEXTS"])
        anywhere = retriever.search(item["QUESTION"], k=2, kind="facts", entity_ids=[])
        own += sum(1 for h in anywhere if k in h.doc_ids)
        facts = build_kg_context(item["QUESTION"], None, retriever=retriever, linker=_NoLinks(), retrieved=2,
                                 within=abstract).facts
        with_fact += bool(facts)
        signal = facts[0].text.split(" is reported in ")[0] if facts else "no fact"
        by_signal[(signal, item["final_decision"])] += 1
        rule.append("no" if signal == "no evidence of an effect" else "yes")
        gold.append(item["final_decision"])
    from fusion.evaluate import macro_f1

    print(json.dumps({"benchmark": "pubmedqa_graph_reach", "quick": args.quick, "graph": "results",
                      "questions": len(test_ids), "graph_facts": store.stats().relations,
                      "top2_from_whole_index_read_in_own_abstract": own, "of_top2": 2 * len(test_ids),
                      "questions_with_a_fact_from_own_abstract": with_fact,
                      "top_fact_signal_by_label": {f"{s} / {g}": n for (s, g), n in sorted(by_signal.items())},
                      "rule_accuracy": round(sum(r == g for r, g in zip(rule, gold)) / len(gold), 4),
                      "rule_macro_f1": round(macro_f1(gold, rule), 4),
                      "always_yes_accuracy": round(gold.count("yes") / len(gold), 4)}))


class _NoLinks:
    """A linker that links nothing: the results graph's names are whole sentences and three evidence labels."""

    def link(self, text: str) -> list:
        return []


if __name__ == "__main__":
    main()
