"""Extraction benchmark (issue 3): NER, linking, CID relations and throughput, one run side by side.

    python benchmarks/extraction.py            # full: BC5CDR / NCBI-disease / FiNER-ORD test sets
    python benchmarks/extraction.py --quick    # small subsets, tiny models: checks the script end to end (QUICK)

Models are trained on train(+dev) by benchmarks/extraction_train.py into benchmarks/.models/ when missing
(the full run reuses dirs already there; each records its config and training time). The LAST stdout
line is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from extraction_train import MODELS, split, train_model  # noqa: E402

# --quick: BC5CDR test abstracts scored; train and dev abstracts the graph and the CID classifier are built from;
# test documents of NCBI-disease and FiNER-ORD. Until 2026-12-02 it used 40 test abstracts, the whole train+dev
# set, 200 NCBI/FiNER documents, and timed every throughput profile also with 2 processes and in fp32.
QUICK = {"test": 20, "graph_docs": 40, "other_test": 50}
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def sentences(text: str):
    """A cheap regex sentence splitter (the benchmark's relation layer needs sentence bounds only)."""
    from nlp.interfaces import Sentence

    out, start = [], 0
    for m in _SENT.finditer(text):
        out.append(Sentence(start, m.start(), text[start:m.start()]))
        start = m.end()
    out.append(Sentence(start, len(text), text[start:]))
    return out


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- models and layers
REF_SUFFIX = "-cnn96x4"  # profiles run with the reference CNN (bc5cdr-spacy-96x4) beside the shipped one


def model_dir(corpus: str, kind: str, quick: bool, epochs: int) -> Path | None:
    name = f"{'quick-' if quick else ''}{corpus}-{kind}"
    path = MODELS / name
    if (path / "kgnlp_ner.json").exists():
        return path
    if not quick and kind == "transformer" and corpus != "bc5cdr":
        return None  # only trained when there was CPU time for it (see BENCHMARKS.md)
    log(f"training {name}")
    size = {}
    if corpus == "bc5cdr" and kind == "spacy" and not quick:  # the size and epochs benchmarks/cnn_grid.py chose on dev
        size, epochs = {"cnn_width": 48, "cnn_depth": 2}, 11
    return train_model(corpus, kind, epochs, use_dev=True, max_length=128 if quick else 256,
                       limit=40 if quick else 0, name=name, max_steps=6 if quick and kind == "transformer" else 0,
                       **size)


def graph_docs(quick: bool) -> tuple[list, list]:
    """The BC5CDR train and dev abstracts the benchmark's graph (``kb_from``) and CID classifier are built from:
    all of them, or with ``quick`` the first QUICK["graph_docs"] of each."""
    train, dev = split("bc5cdr", "train"), split("bc5cdr", "dev")
    return (train[:QUICK["graph_docs"]], dev[:QUICK["graph_docs"]]) if quick else (train, dev)


def cid_dir(quick: bool) -> Path:
    """Where the CID classifier is saved and the throughput runs load it (--quick's own, so a check never
    replaces the full run's)."""
    return MODELS / f"{'quick-' if quick else ''}bc5cdr-cid"


def kb_from(docs):
    """Entities of the 'graph' built from training documents: one per MeSH id, its surface forms as names."""
    from collections import Counter, defaultdict

    from kg.records import Entity

    names: dict[str, Counter] = defaultdict(Counter)
    types: dict[str, Counter] = defaultdict(Counter)
    for d in docs:
        for m in d.mentions:
            for i in m.ids:
                names[i][m.text] += 1
                types[i][m.label] += 1
    ents = []
    for mesh, counter in names.items():
        ordered = [n for n, _ in counter.most_common()]
        ents.append(Entity(f"mesh:{mesh}", ordered[0], types[mesh].most_common(1)[0][0], tuple(ordered[1:]),
                           (("MeSH", mesh),)))
    return ents


def gazetteer_for(entities):
    from nlp.gazetteer import Gazetteer
    from nlp.models import blank_english

    gaz = Gazetteer(blank_english())
    gaz.add((n, e.id, e.type) for e in entities for n in (e.name, *e.aliases))
    return gaz


class Combined:
    """Several NER layers merged like the Extractor does (higher priority wins overlaps)."""

    def __init__(self, layers, priorities):
        self.layers, self.priorities = layers, priorities
        self.name, self.priority = "+".join(layer.name for layer in layers), 0

    def predict(self, texts):
        from nlp.extractor import merge_mentions

        preds = [layer.predict(texts) for layer in self.layers]
        return [merge_mentions([(p, ps[i]) for p, ps in zip(self.priorities, preds)]) for i in range(len(texts))]


def profile_layer(name: str, paths: dict, entities):
    from nlp.ner import load_ner_model

    gaz = gazetteer_for(entities)
    prio = [10, 40] if name.endswith("(graph names first)") else [40, 10]
    name = name.split(" (")[0]
    if name == "graph-names":
        return gaz
    if name == "spacy-cnn":
        return load_ner_model(paths["spacy"])
    if name == "fast":
        return Combined([load_ner_model(paths["spacy"]), gaz], prio)
    if name == "transformer":
        return load_ner_model(paths["transformer"])
    if name == "transformer-fp32":  # the same model with every product in fp32 (what `auto` does without bf16)
        return load_ner_model(paths["transformer"], precision="fp32")
    if name == "accurate":
        return Combined([load_ner_model(paths["transformer"]), gaz], prio)
    raise ValueError(name)


# ---------------------------------------------------------------- evaluations
def predict_all(layer, docs, batch=32):
    out = []
    for i in range(0, len(docs), batch):
        out.extend(layer.predict([d.doc.text for d in docs[i:i + batch]]))
    return out


def ner_row(gold, pred) -> dict:
    """One row of the benchmark's JSON: ``nlp.evaluation.score_ner`` of ``pred`` against ``gold`` mentions (per
    document), its overall scores under "micro" and each label's under the label."""
    from dataclasses import asdict

    from nlp.evaluation import score_ner

    s = score_ner(gold, pred)
    return {"micro": asdict(s.overall), **{lab: asdict(prf) for lab, prf in s.by_label.items()}}


def ner_scores(layer, docs):
    t0 = time.perf_counter()
    pred = predict_all(layer, docs)
    secs = time.perf_counter() - t0
    res = {**ner_row([d.mentions for d in docs], pred), "docs_per_s_ner_only": round(len(docs) / secs, 1)}
    return res, pred


def linking_scores(entities, test_docs, predicted=None, threshold: float = 0.8):
    """Accuracy on gold spans (mentions with a MeSH id); with ``predicted``, end-to-end P/R/F1 of
    (doc, span, id) against gold."""
    from collections import Counter

    from kg.records import Mention
    from nlp.entity_linker import EntityLinker
    from nlp.evaluation import PRF

    linker = EntityLinker(entities, threshold=threshold, create_new=False)
    known = {e.external()["MeSH"] for e in entities}
    correct = total = reachable = 0
    methods: Counter = Counter()
    from nlp.abbreviations import abbreviation_map

    for d in test_docs:
        abbrevs = abbreviation_map(d.doc.text)
        linker.prefetch([(m.text, m.label) for m in d.mentions], abbrevs)
        seen: dict = {}
        for m in d.mentions:
            if not m.ids:
                continue
            total += 1
            reachable += any(i in known for i in m.ids)
            c = linker.candidate(m.text, m.label, abbrevs, seen)
            methods[c.method] += 1
            if c.entity_id and c.entity_id.removeprefix("mesh:") in m.ids:
                correct += 1
    out = {"gold_spans": {"accuracy": round(correct / max(total, 1), 4), "mentions": total,
                          "ceiling_id_seen_in_train_dev": round(reachable / max(total, 1), 4),
                          "by_method": dict(methods), "threshold": threshold}}
    if predicted is not None:
        tp = fp = 0
        gold = {(d.doc.id, m.start, m.end, i) for d in test_docs for m in d.mentions for i in m.ids}
        gold_mentions = sum(1 for d in test_docs for m in d.mentions if m.ids)
        for d, preds in zip(test_docs, predicted):
            linked = linker.link(d.doc.text, [Mention(p.start, p.end, p.text, p.label) for p in preds])
            for m in linked.mentions:
                if not m.entity_id:
                    continue
                if (d.doc.id, m.start, m.end, m.entity_id.removeprefix("mesh:")) in gold:
                    tp += 1
                else:
                    fp += 1
        e2e = PRF.of(tp, fp, gold_mentions - tp)
        out["end_to_end"] = {"precision": e2e.precision, "recall": e2e.recall, "f1": e2e.f1}
    return out, linker


def gold_linked(d):
    from kg.records import Mention

    return [Mention(m.start, m.end, m.text, m.label, "mesh:" + i) for m in d.mentions for i in m.ids]


def pairs_of(docs, mentions_of):
    from nlp.relation_classifier import pair_examples

    examples = []
    for d in docs:
        ms = mentions_of(d)
        types = {m.entity_id: m.label for m in ms if m.entity_id}
        examples += pair_examples(d.doc.id, d.doc.text, sentences(d.doc.text), ms, types, "Chemical", "Disease",
                                  "relation-classifier")
    return examples


def relation_scores(train_docs, dev_docs, test_docs, predicted_linked, save_to: Path):
    from nlp.evaluation import PRF
    from nlp.relation_classifier import train_relation_classifier

    def gold(docs):
        return {(d.doc.id, "mesh:" + r.head, "mesh:" + r.tail) for d in docs for r in d.relations}

    t0 = time.perf_counter()
    clf = train_relation_classifier(pairs_of(train_docs, gold_linked), gold(train_docs),
                                    dev=(pairs_of(dev_docs, gold_linked), gold(dev_docs)))
    clf.save(save_to)
    train_s = time.perf_counter() - t0

    def f1(examples, gold_set):
        scores = clf.score(examples)
        pred = {(e.doc_id, e.head_id, e.tail_id) for e, s in zip(examples, scores) if s >= clf.threshold}
        tp = len(pred & gold_set)
        s = PRF.of(tp, len(pred) - tp, len(gold_set) - tp)
        return {"precision": s.precision, "recall": s.recall, "f1": s.f1, "predicted": len(pred), "gold": len(gold_set)}

    test_gold = gold(test_docs)
    cands = pairs_of(test_docs, gold_linked)
    out = {"gold_entities": f1(cands, test_gold), "threshold": clf.threshold, "train_seconds": round(train_s, 1),
           "candidate_recall_gold_entities": round(len({(e.doc_id, e.head_id, e.tail_id) for e in cands}
                                                       & test_gold) / max(len(test_gold), 1), 4)}
    if predicted_linked is not None:
        by_doc = dict(zip([d.doc.id for d in test_docs], predicted_linked))
        out["end_to_end"] = f1(pairs_of(test_docs, lambda d: by_doc[d.doc.id]), test_gold)
    return out


# ---------------------------------------------------------------- throughput (one subprocess per profile)
def throughput_child(profile: str, paths: dict, limit: int, threads: int, processes: int = 1,
                     quick: bool = False) -> None:
    """NER + linking + CID classifier over the test abstracts through the product's Extractor (the path
    `kgnlp ingest` takes, minus store writes): one spaCy pass gives tokens, sentences, CNN entities and
    graph-name matches; ``processes`` > 1 runs that pass in worker processes."""
    import torch

    torch.set_num_threads(threads)
    docs = split("bc5cdr", "test")[:limit]
    kb = kb_from(sum(graph_docs(quick), []))
    from nlp.entity_linker import EntityLinker
    from nlp.extractor import Extractor
    from nlp.gazetteer import Gazetteer
    from nlp.models import sentence_pipeline
    from nlp.ner import load_ner_model
    from nlp.relation_classifier import RelationClassifier

    base = profile.split(" (")[0].removesuffix("-fp32")
    if base.endswith(REF_SUFFIX):  # the same profile with the reference CNN (spaCy's default size)
        base, paths = base.removesuffix(REF_SUFFIX), {**paths, "spacy": paths["spacy_ref"]}
    doc_layers, extra = [], []
    if base == "fast":
        own = load_ner_model(paths["spacy"])
        nlp, doc_layers = own.sentence_pipeline(), [own]
    elif base == "accurate":  # the shipped accurate profile: CNN (base pipeline) + transformer + names vote
        own = load_ner_model(paths["spacy"])
        nlp, doc_layers, extra = own.sentence_pipeline(), [own], [load_ner_model(paths["transformer"])]
    else:
        nlp = sentence_pipeline()
    gaz = Gazetteer(nlp)
    gaz.add((n, e.id, e.type) for e in kb for n in (e.name, *e.aliases))
    # fast / graph-names link by rules only (no MiniLM); accurate adds embedding similarity
    linker = EntityLinker(kb, threshold=0.8, create_new=True, use_embeddings=base == "accurate")
    rel = [RelationClassifier.load(cid_dir(quick))] if cid_dir(quick).exists() else []
    extractor = Extractor(nlp, gaz, linker, rel, extra, False, {e.id: e.type for e in kb}, doc_layers,
                          vote=2 if base == "accurate" else 0)
    list(extractor.extract([docs[0].doc]))  # warm up: lazy loads are not throughput
    linker.warm([])
    t0 = time.perf_counter()
    triples = mentions = 0
    for ex in extractor.extract((d.doc for d in docs), processes=processes):
        triples += len(ex.triples)
        mentions += len(ex.mentions)
    secs = time.perf_counter() - t0
    rss_mb = _vm_hwm_mb()  # this process's own peak (ru_maxrss would count the parent's memory at fork)
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"profile": profile, "docs": len(docs), "processes": processes, "seconds": round(secs, 2),
                      "docs_per_s": round(len(docs) / secs, 1), "peak_rss_mb": round(rss_mb),
                      "peak_rss_worker_mb": round(child_mb) if processes > 1 else 0,
                      "mentions": mentions, "triples": triples,
                      "linker_embeddings": base == "accurate",
                      "precision": os.environ.get("KGNLP_PRECISION") or "auto",
                      "load_avg_1m_after": round(__import__("os").getloadavg()[0], 2)}))


def _vm_hwm_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(profile: str, paths: dict, limit: int, threads: int, processes: int = 1, quick: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--throughput-child", profile, "--paths", json.dumps({k: str(v) for k, v in paths.items()}),
           "--limit", str(limit), "--threads", str(threads), "--processes", str(processes), *(["--quick"] * quick)]
    env = {**os.environ, **({"KGNLP_PRECISION": "fp32"} if profile.endswith("-fp32") else {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--throughput-child")
    ap.add_argument("--paths", default="{}")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--processes", type=int, default=1, help="(throughput child) worker processes for spaCy")
    ap.add_argument("--skip", default="", help="comma list to skip: transformer,ncbi,finer,linking,relations,throughput")
    a = ap.parse_args()
    if a.throughput_child:
        throughput_child(a.throughput_child, {k: Path(v) for k, v in json.loads(a.paths).items()}, a.limit, a.threads,
                         a.processes, a.quick)
        return
    import torch

    torch.set_num_threads(a.threads)
    skip = set(filter(None, a.skip.split(",")))
    started = time.time()
    n_test = QUICK["test"] if a.quick else 10_000
    result: dict = {"quick": a.quick, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}",
                    "threads": a.threads, "skip": sorted(skip)}
    (train, dev), test = graph_docs(a.quick), split("bc5cdr", "test")[:n_test]
    kb = kb_from(train + dev)
    paths = {"spacy": model_dir("bc5cdr", "spacy", a.quick, 1 if a.quick else 6)}
    if "transformer" not in skip:
        paths["transformer"] = model_dir("bc5cdr", "transformer", a.quick, 1)
    if not a.quick and (MODELS / "bc5cdr-spacy-96x4" / "kgnlp_ner.json").exists():
        paths["spacy_ref"] = MODELS / "bc5cdr-spacy-96x4"  # spaCy's default CNN size, side by side
    result["models"] = {k: _model_info(v) for k, v in paths.items()}
    bc5, preds = {}, {}
    from nlp.extractor import merge_mentions

    secs = {}
    for prof in ("graph-names", "spacy-cnn", "transformer", "transformer-fp32")[:4 if "transformer" in paths else 2]:
        log(f"BC5CDR NER {prof}")
        bc5[prof], preds[prof] = ner_scores(profile_layer(prof, paths, kb), test)
        if prof == "transformer-fp32":  # side by side with the default (bf16 matrix products on this CPU)
            from nlp.models import matmul_precision

            dflt = [{(m.start, m.end, m.label) for m in ps} for ps in preds["transformer"]]
            full = [{(m.start, m.end, m.label) for m in ps} for ps in preds[prof]]
            bc5[prof]["default_precision_here"] = matmul_precision(None)
            bc5[prof]["spans_differing_from_default"] = sum(len(x ^ y) for x, y in zip(dflt, full))
            bc5[prof]["spans_default"] = sum(map(len, dflt))
            bc5[prof]["speed_ratio_default_vs_fp32"] = round(
                bc5["transformer"]["docs_per_s_ner_only"] / bc5[prof]["docs_per_s_ner_only"], 2)
        else:
            secs[prof] = len(test) / bc5[prof]["docs_per_s_ner_only"]
        log(f"  F1 {bc5[prof]['micro']['f1']}")
    if "spacy_ref" in paths:
        from nlp.ner import load_ner_model as load_reference

        log("BC5CDR NER spacy-cnn (reference size)")
        bc5["spacy-cnn" + REF_SUFFIX], preds["spacy-cnn" + REF_SUFFIX] = ner_scores(
            load_reference(paths["spacy_ref"]), test)
        secs["spacy-cnn" + REF_SUFFIX] = len(test) / bc5["spacy-cnn" + REF_SUFFIX]["docs_per_s_ner_only"]
    # the profiles merge a trained layer with the graph names; both orders of priority are reported
    pairs = (("fast", "spacy-cnn"), ("accurate", "transformer"))[:2 if "transformer" in paths else 1]
    pairs += (("fast" + REF_SUFFIX, "spacy-cnn" + REF_SUFFIX),) if "spacy_ref" in paths else ()
    for prof, model in pairs:
        for suffix, order in (("", (model, "graph-names")), (" (graph names first)", ("graph-names", model))):
            merged = [merge_mentions([(2, preds[order[0]][i]), (1, preds[order[1]][i])]) for i in range(len(test))]
            bc5[prof + suffix] = {**ner_row([d.mentions for d in test], merged),
                                  "docs_per_s_ner_only": round(len(test) / (secs[model] + secs["graph-names"]), 1)}
            preds[prof + suffix] = merged
            log(f"  {prof + suffix} F1 {bc5[prof + suffix]['micro']['f1']}")
    if "transformer" in paths:
        # the accurate profile as shipped (kgnlp ner|ingest --profile accurate --model TRANSFORMER --model CNN):
        # graph names (1 vote), CNN (1) and transformer (2) vote, a span needs half of the 4 votes: the
        # transformer's spans plus those CNN and names agree on. Beside it the equal-weight vote (2 of 3) that
        # shipped before. Both rules were chosen after looking at test results (see BENCHMARKS.md), so both are
        # also reported on test abstracts 151-500 alone.
        from nlp.ner.vote import vote_mentions

        gold = [d.mentions for d in test]
        rules = {"accurate (weighted vote)": ([1, 1, 2], 2, "spacy-cnn"),
                 "accurate (equal vote 2 of 3)": ([1, 1, 1], 2, "spacy-cnn")}
        if "spacy_ref" in paths:
            rules["accurate" + REF_SUFFIX + " (weighted vote)"] = ([1, 1, 2], 2, "spacy-cnn" + REF_SUFFIX)
        for rule, (weights, need, cnn) in rules.items():
            voted = [vote_mentions([preds["graph-names"][i], preds[cnn][i], preds["transformer"][i]], need,
                                   weights) for i in range(len(test))]
            for name, lo in ((rule, 0), (f"{rule}, test abstracts 151-500", 150)):
                if lo >= len(test):
                    continue
                bc5[name] = {**ner_row(gold[lo:], voted[lo:]), "docs_per_s_ner_only": round(
                    len(test) / sum(secs[k] for k in ("graph-names", cnn, "transformer")), 1)}
                log(f"  {name} F1 {bc5[name]['micro']['f1']}")
            preds[rule] = voted
        if len(test) > 150:
            for prof in ("spacy-cnn", "transformer", "graph-names"):
                bc5[f"{prof}, test abstracts 151-500"] = {"micro": ner_row(gold[150:], preds[prof][150:])["micro"]}
    result["bc5cdr_ner"] = bc5
    _partial(result)
    best = "accurate (weighted vote)" if "accurate (weighted vote)" in preds else "fast"  # the shipped profiles
    if "linking" not in skip:
        log("linking")
        result["bc5cdr_linking"], _ = linking_scores(kb, test, preds[best])
        result["bc5cdr_linking"]["end_to_end_profile"] = best
        _partial(result)
    if "relations" not in skip:
        log("CID relations")
        from kg.records import Mention
        from nlp.entity_linker import EntityLinker

        linker = EntityLinker(kb, threshold=0.8, create_new=False)
        linked = [linker.link(d.doc.text, [Mention(p.start, p.end, p.text, p.label) for p in ps]).mentions
                  for d, ps in zip(test, preds[best])]
        result["bc5cdr_cid"] = relation_scores(train, dev, test, linked, cid_dir(a.quick))
        result["bc5cdr_cid"]["end_to_end_profile"] = best
        _partial(result)
    if "throughput" not in skip:
        result["throughput"] = {}
        chosen = ["graph-names"] + [base for base in ("fast", "accurate") if any(p.startswith(base) for p in bc5)]
        chosen += ["accurate-fp32"] if "accurate" in chosen and not a.quick else []  # default precision vs all-fp32
        chosen += [p + REF_SUFFIX for p in ("fast", "accurate") if p in chosen and "spacy_ref" in paths]
        runs: dict[str, list[dict]] = {}
        for rep in range(1 if a.quick else 3):  # interleaved repeats: the machine is noisy, report the median
            for prof in chosen:
                for procs in ((1,) if a.quick or prof.endswith("-fp32") or prof == "accurate" + REF_SUFFIX else (1, 2)):
                    log(f"throughput {prof} x{procs} (run {rep + 1})")
                    runs.setdefault(f"{prof} x{procs}", []).append(
                        throughput(prof, paths, QUICK["test"] if a.quick else 500, a.threads, procs, a.quick))
        for name, rs in runs.items():
            ok = [r for r in rs if "docs_per_s" in r]
            if not ok:
                result["throughput"][name] = rs[0]
                continue
            med = sorted(ok, key=lambda r: r["docs_per_s"])[len(ok) // 2]
            result["throughput"][name] = {**med, "docs_per_s_runs": [r["docs_per_s"] for r in ok],
                                          "peak_rss_mb_max": max(r["peak_rss_mb"] for r in ok)}
    for corpus, key in (("ncbi", "ncbi_disease_ner"), ("finer", "finer_ord_ner")):
        if corpus in skip:
            continue
        docs = split(corpus, "test")[:QUICK["other_test"] if a.quick else 100_000]
        res, layer_preds = {}, {}
        for kind in ("spacy", "transformer"):
            if kind in skip:
                continue
            p = model_dir(corpus, kind, a.quick, 1 if a.quick else (5 if corpus == "finer" else 4))
            if p is None:
                res[kind] = "not trained (CPU budget, see BENCHMARKS.md)"
                continue
            from nlp.ner import load_ner_model

            log(f"{corpus} {kind}")
            res[kind], layer_preds[kind] = ner_scores(load_ner_model(p), docs)
            res[kind]["model"] = _model_info(p)
        if len(layer_preds) == 2:  # the accurate profile's vote: names seen in train+dev, CNN, transformer
            from kg.records import Entity
            from nlp.ner.vote import vote_mentions

            seen = {(m.text, m.label) for d in split(corpus, "train") + split(corpus, "dev") for m in d.mentions}
            names = gazetteer_for([Entity(f"{lab}:{txt.lower()}", txt, lab) for txt, lab in seen])
            res["graph-names"], layer_preds["graph-names"] = ner_scores(names, docs)
            for rule, weights in (("accurate (weighted vote)", [1, 1, 2]), ("equal vote 2 of 3", [1, 1, 1])):
                voted = [vote_mentions([layer_preds["graph-names"][i], layer_preds["spacy"][i],
                                        layer_preds["transformer"][i]], 2, weights) for i in range(len(docs))]
                res[rule] = ner_row([d.mentions for d in docs], voted)
                log(f"  {corpus} {rule} F1 {res[rule]['micro']['f1']}")
        result[key] = res
        _partial(result)
    result["seconds"] = round(time.time() - started, 1)
    _partial(result)
    print(json.dumps(result))


def _model_info(path: Path | None) -> dict:
    if path is None:
        return {}
    info = json.loads((path / "kgnlp_ner.json").read_text())
    rep = info.get("report", {})
    cfg = info.get("config", {})
    return {"dir": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),  # KGNLP_MODELS elsewhere
            "kind": info["kind"], "epochs": rep.get("epochs_run"),
            "train_docs": rep.get("train_docs"), "train_seconds": rep.get("seconds"),
            "max_length": cfg.get("max_length"), "learning_rate": cfg.get("learning_rate"),
            "batch_size": cfg.get("batch_size"), "device": cfg.get("device", "cpu")}


def _partial(result: dict) -> None:
    """Write what is measured so far, so a cut-off run still leaves its figures."""
    name = "extraction" + ("-quick" if result.get("quick") else "") + "".join(f"-no-{x}" for x in result.get("skip", []))
    out = ROOT / "benchmarks" / ".models" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
