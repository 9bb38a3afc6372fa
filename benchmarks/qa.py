"""QA over a graph built from documents: >= 200 Hetionet questions (1-hop and 2-hop, several phrasings per relation).

    python benchmarks/qa.py            # full set
    python benchmarks/qa.py --quick    # a small subset

How the set is made (all here, reproducible with --seed): Hetionet facts of three kinds (Compound-treats-Disease,
Compound-causes-Side Effect, Disease-presents-Symptom) are written out as short documents in varied phrasings
(one document per compound or disease); only the entity names are seeded, never the facts. `kgnlp`'s ingest
builds the graph from those documents, then questions generated from the same facts are asked through the
library QA (what `kgnlp ask` runs). Gold answers are every entity the selected facts make true. Each question is
asked twice (by hops, then by relation); ms_per_question and store_calls_per_question (the store methods QA
called, by name) are per asking.
PubMedQA (yes/no/maybe) needs the fused QA model of issue 6 and is reported there, not here.
The last stdout line is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.hetionet_data import load  # noqa: E402
from kg.names import normalise  # noqa: E402
from kg.records import Entity  # noqa: E402

KIND_TYPE = {"Compound": "Chemical", "Disease": "Disease", "Side Effect": "Disease", "Symptom": "Disease"}
REL = {"CtD": "TREATS", "CcSE": "CAUSES", "DpS": "ASSOCIATED_WITH"}
# Phrasings marked HELD_OUT were written for this benchmark without a matching pattern cue being written for them
# afterwards; the rest are phrasings the pattern cues were written or extended for. Fact recall is reported per group.
HELD_OUT = {"{h} remains a mainstay of therapy in {t}.", "Guidelines recommend {h} as initial therapy for {t}.",
            "{t} occurred more often with {h} than with placebo.", "Exposure to {h} has been linked to {t}.",
            "Many patients with {h} also have {t}."}
SENTENCES = {
    "TREATS": ["{h} is used to treat {t}.", "{t} is commonly treated with {h}.", "Patients with {t} were given {h}.",
               "{h} is approved for {t}.", "Clinicians prescribe {h} for the treatment of {t}.",
               "{h} has shown efficacy against {t} in several trials.", "For {t}, doctors often reach for {h}.",
               "{h} remains a mainstay of therapy in {t}.", "Guidelines recommend {h} as initial therapy for {t}."],
    "CAUSES": ["{h} can cause {t}.", "{t} is a known side effect of {h}.",
               "{t} has been reported in patients taking {h}.", "Treatment with {h} may lead to {t}.",
               "Some people on {h} develop {t}.", "{h} users occasionally experience {t}.",
               "{t} occurred more often with {h} than with placebo.", "Exposure to {h} has been linked to {t}."],
    "ASSOCIATED_WITH": ["{h} often presents with {t}.", "{t} is a common symptom of {h}.",
                        "Patients with {h} frequently report {t}.", "{t} is frequently seen in {h}.",
                        "Many patients with {h} also have {t}."],
}
ONE_HOP = {  # (relation, asks for): phrasings; {e} is the given entity
    ("TREATS", "tail"): ["What does {e} treat?", "What is {e} used to treat?", "Which diseases can {e} treat?"],
    ("TREATS", "head"): ["Which drugs treat {e}?", "What is used to treat {e}?", "How is {e} treated?",
                         "Which medication is prescribed for {e}?", "Name a therapy for {e}."],
    ("CAUSES", "tail"): ["What are the side effects of {e}?", "What adverse effects does {e} cause?",
                         "What can {e} cause?", "What might happen to patients taking {e}?"],
    ("CAUSES", "head"): ["Which drugs can cause {e}?", "What causes {e}?"],
    ("ASSOCIATED_WITH", "tail"): ["What symptoms does {e} present with?", "What are the symptoms of {e}?"],
    ("ASSOCIATED_WITH", "head"): ["Which diseases present with {e}?", "{e} is a symptom of which diseases?"],
}
TWO_HOP = {
    ("TREATS", "CAUSES"): ["What are the side effects of drugs that treat {e}?",
                           "What adverse effects can drugs used to treat {e} cause?"],
    ("TREATS", "ASSOCIATED_WITH"): ["What are the symptoms of diseases treated by {e}?",
                                    "Which symptoms do the diseases that {e} treats present with?"],
}


def build(quick: bool, seed: int):
    het = load(include_full_dag=False)
    rng = random.Random(seed)
    by_rel = defaultdict(list)
    for h, r, t in het.facts:
        if r in REL:
            by_rel[r].append((h, t))
    ctd = by_rel["CtD"]
    rng.shuffle(ctd)
    ctd = ctd[: 60 if quick else 260]
    compounds = {h for h, _ in ctd}
    diseases = {t for _, t in ctd}
    ccse = defaultdict(list)
    for h, t in by_rel["CcSE"]:
        if h in compounds and len(ccse[h]) < 3:
            ccse[h].append(t)
    dps = defaultdict(list)
    for h, t in by_rel["DpS"]:
        if h in diseases and len(dps[h]) < 3:
            dps[h].append(t)
    # One id per (name, type): a side effect and a symptom with the same name are one entity here, named as the
    # first of them by node id names it (sorted: a set's order changes with hash randomisation, and so did the names)
    ident, entities = {}, {}
    for node in sorted({x for pair in ctd for x in pair} | {x for v in ccse.values() for x in v} | set(ccse) |
                       {x for v in dps.values() for x in v} | set(dps)):
        name, kind = het.names[node], KIND_TYPE[het.kinds[node]]
        eid = f"het:{kind[:4].lower()}:{normalise(name)}"
        ident[node] = eid
        entities.setdefault(eid, Entity(eid, name, kind))
    facts = set()
    for h, t in ctd:
        facts.add((ident[h], "TREATS", ident[t]))
    for h, ts in ccse.items():
        facts.update((ident[h], "CAUSES", ident[t]) for t in ts)
    for h, ts in dps.items():
        facts.update((ident[h], "ASSOCIATED_WITH", ident[t]) for t in ts)
    facts = {f for f in facts if f[0] != f[2]}
    return entities, sorted(facts), rng


def documents(entities, facts, rng, phrasing: dict | None = None) -> list[dict]:
    """One document per head entity; ``phrasing`` records which template stated each fact."""
    by_head = defaultdict(list)
    for f in facts:
        by_head[f[0]].append(f)
    docs = []
    for i, (head, fs) in enumerate(sorted(by_head.items())):
        sents = []
        for h, r, t in fs:
            tmpl = rng.choice(SENTENCES[r])
            if phrasing is not None:
                phrasing[(h, r, t)] = tmpl
            sents.append(tmpl.format(h=entities[h].name, t=entities[t].name))
        sents = [s[0].upper() + s[1:] for s in sents]
        rng.shuffle(sents)
        docs.append({"id": f"het-doc-{i:04d}", "text": " ".join(sents)})
    return docs


def questions(entities, facts, rng, quick: bool) -> list[dict]:
    out_edges, in_edges = defaultdict(set), defaultdict(set)
    for h, r, t in facts:
        out_edges[(h, r)].add(t)
        in_edges[(t, r)].add(h)
    qs = []
    for (rel, asks), phrasings in ONE_HOP.items():
        keys = sorted(k for k in (out_edges if asks == "tail" else in_edges) if k[1] == rel)
        rng.shuffle(keys)
        for key in keys[: 8 if quick else 30]:
            gold = (out_edges if asks == "tail" else in_edges)[key]
            q = rng.choice(phrasings).format(e=entities[key[0]].name)
            qs.append({"question": q, "answers": sorted(entities[g].name for g in gold), "hops": 1, "relation": rel})
    for (r1, r2), phrasings in TWO_HOP.items():
        anchors = sorted({t for (t, r) in in_edges if r == r1} if r2 == "CAUSES" else {h for (h, r) in out_edges if r == r1})
        rng.shuffle(anchors)
        n = 0
        for a in anchors:
            middles = in_edges[(a, r1)] if r2 == "CAUSES" else out_edges[(a, r1)]
            gold = {z for m in middles for z in out_edges.get((m, r2), ())} - {a}
            if not gold:
                continue
            q = rng.choice(phrasings).format(e=entities[a].name)
            qs.append({"question": q, "answers": sorted(entities[g].name for g in gold), "hops": 2,
                       "relation": f"{r1}+{r2}"})
            n += 1
            if n >= (8 if quick else 40):
                break
    return qs


class CountedStore:
    """A store whose method calls are counted by name (``calls``), to see what answering questions asks of it."""

    def __init__(self, store) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str):
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attr(*args, **kwargs)
        return counted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--keep", type=Path, help="Also write the documents and questions to this folder.")
    args = ap.parse_args()

    from kg.stores.sqlite import SQLiteStore
    from nlp.evaluation import evaluate_qa
    from nlp.ingest import ingest_documents
    from nlp.loaders import LoadedDocument
    from kg.records import Document

    entities, facts, rng = build(args.quick, args.seed)
    phrasing: dict = {}
    docs = documents(entities, facts, rng, phrasing)
    qs = questions(entities, facts, rng, args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = SQLiteStore.open(tmp / "graph.db")
        store.add([], entities.values())
        t0 = time.perf_counter()
        loaded = [LoadedDocument.of(Document(d["id"], d["text"])) for d in docs]
        report = ingest_documents(store, loaded)
        ingest_s = time.perf_counter() - t0
        built = {(t.head_id, t.relation, t.tail_id) for t in store.triples()}
        results = {}
        counted = CountedStore(store)
        t0 = time.perf_counter()
        for hops in (1, 2):
            path = tmp / f"qa{hops}.jsonl"
            path.write_text("".join(json.dumps(q) + "\n" for q in qs if q["hops"] == hops), encoding="utf-8")
            score = evaluate_qa(counted, path)
            results[f"{hops}-hop"] = {"questions": score.questions, "answered": score.answered,
                                      "hits@1": score.hits_at[1], "hits@3": score.hits_at[3],
                                      "hits@10": score.hits_at[10]}
        per_rel = {}
        for rel in sorted({q["relation"] for q in qs}):
            path = tmp / "rel.jsonl"
            path.write_text("".join(json.dumps(q) + "\n" for q in qs if q["relation"] == rel), encoding="utf-8")
            per_rel[rel] = evaluate_qa(counted, path).hits_at[1]
        qa_s = time.perf_counter() - t0
        store.close()
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
            (args.keep / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qs), encoding="utf-8")
    held = [f for f in facts if phrasing[f] in HELD_OUT]
    seen = [f for f in facts if phrasing[f] not in HELD_OUT]
    summary = {
        "benchmark": "qa", "quick": args.quick, "seed": args.seed, "documents": len(docs), "facts_stated": len(facts),
        "facts_recovered": len(built & set(facts)), "facts_extracted": len(built),
        "fact_recall": round(len(built & set(facts)) / len(facts), 4),
        "fact_recall_pattern_phrasings": round(len(built & set(seen)) / max(1, len(seen)), 4),
        "fact_recall_held_out_phrasings": round(len(built & set(held)) / max(1, len(held)), 4),
        "questions": len(qs),
        "ingest_seconds": round(ingest_s, 2), "qa_seconds": round(qa_s, 2),
        "ms_per_question": round(1000 * qa_s / (2 * len(qs)), 2),
        "store_calls_per_question": {k: round(n / (2 * len(qs)), 2) for k, n in sorted(counted.calls.items())},
        **results, "hits@1_by_relation": per_rel,
        "new_entities": report.entities,
    }
    for key, val in results.items():
        print(f"{key}: {val}", file=sys.stderr)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
