"""Ablation of the fusion model: none | facts | embeddings | both on BC5CDR NER, Financial PhraseBank and PubMedQA.

    python benchmarks/fusion.py prepare --out benchmarks/.work/fusion          # graphs + KG embeddings (CPU)
    python benchmarks/fusion.py run --prepared benchmarks/.work/fusion --quick-set [--device cuda] [--fusion none,both]
    python benchmarks/fusion.py --quick      # `make bench-quick`: seed 1, none and both, a few examples, 1 epoch
    python benchmarks/fusion.py compare none=A.json,B.json both=C.json,D.json   # per seed, mean ± std, paired

``prepare`` builds one biomedical graph (BC5CDR *training-set* gold entities with their surface forms and
chemical-induced-disease relations as CAUSES, plus Hetionet Compound/Disease/Side Effect/Symptom names and
their edges from the 5k-per-type subset) in SQLite and trains TransE on it with ``kg.embeddings``. The task data is
never copied: ``prepare`` and ``run`` read it from ``../shared/datasets/`` in place (``benchmarks/shared_data.py``;
before 2026-12-02 ``prepare`` copied it into the ignored ``--out`` folder). Financial PhraseBank has no public graph
here: the financial graph is the repo's hand-written concept graph ``data/finance`` (financial measures with the
direction that is good news, business events and what they signal, change words; schema in
``data/finance/schema.toml``) plus ``data/seed`` (a small fictional graph). ``prepare --graphs fin`` rebuilds only
that graph and its embeddings (runs before 2026-11-29 used ``data/seed`` alone). ``prepare --graphs pqa`` builds
``pqa.db``: the biomedical graph plus what ``kgnlp ingest``'s pipeline extracts from PQA-L's 1,000 abstracts
(their ``CONTEXTS``, the task's inputs; never a label or a conclusion); ``run --pubmedqa-graph pqa`` uses it.
``prepare --graphs findings`` builds ``findings.db`` from ``data/findings`` alone, a hand-written concept graph of
how studies report results (significance, no difference, association, benefit, hedging, trends, negation, and
what each signals); ``run --pubmedqa-graph findings`` uses it. It leaves out the biomedical graph: its drug and
disease facts would take the few fact slots of an input and say nothing about a study's outcome.
``prepare --graphs results`` ingests the results of PQA-L's 1,000 abstracts (the sentences of their RESULTS
sections, never a label or a conclusion) as findings: each sentence in which ``data/findings`` finds a way of
reporting a result becomes a finding entity (named by the sentence), tied to what it signals ("no evidence of an
effect is reported in <sentence>"), with the abstract as provenance, in ``results.db``, and builds its FAISS
indexes in the workspace ``results-ws``. ``run --pubmedqa-graph results --retrieved 2`` gives a fused model the
findings most like the question (``FusionConfig.retrieved``), from the whole index or, with ``--retrieve-from
passage``, only those read in the question's own abstract.
Since 2026-11-29 the biomedical graph keeps names as written ("NO", not "no"; earlier runs lowercased them).
Last stdout line of ``run``: one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.shared_data import DATA, dataset  # noqa: E402  (../shared/datasets, read in place)
FIN_GRAPH = Path(__file__).resolve().parents[1] / "data" / "finance"
FINDINGS_GRAPH = Path(__file__).resolve().parents[1] / "data" / "findings"
HETIO_KINDS = {"Compound", "Disease", "Side Effect", "Symptom"}
HETIO_RELS = {"CtD": "TREATS", "CpD": "PALLIATES", "CcSE": "CAUSES", "DpS": "PRESENTS", "CrC": "RESEMBLES",
              "DrD": "RESEMBLES"}
SIZES = {  # (train, eval) per task; eval for PubMedQA is taken from the official 500 test questions
    "quick": {"ner": (120, 100), "fpb": (800, 400), "pubmedqa": (450, 500), "epochs": 3},  # --quick-set
    "smoke": {"ner": (4, 3), "fpb": (24, 16), "pubmedqa": (8, 8), "epochs": 1},
    "full": {"ner": (500, 500), "fpb": (3876, 485), "pubmedqa": (450, 500), "epochs": 4},
}
QUICK_PUBMEDQA_LENGTH = 128  # --quick: PubMedQA inputs as short as NER's


# ---------------------------------------------------------------- prepare (CPU, once)
def prepare(out: Path, emb_seconds: int, graphs: tuple[str, ...] = ("bio", "fin"), ner_model: str = "") -> dict:
    from kg.embeddings import TrainConfig, train_embeddings
    from kg.stores.sqlite import SQLiteStore

    if {"bio", "fin"} & set(graphs) and not DATA.is_dir():  # the graphs (and task data) read from the shared folder
        sys.exit(f"error: datasets not found at {DATA} (expected ../shared/datasets/ next to the repo)")
    out.mkdir(parents=True, exist_ok=True)
    info = json.loads((out / "prepared.json").read_text()) if (out / "prepared.json").exists() else {}
    info.pop("graph_seconds", None)  # the one figure for both graphs of earlier prepares
    builders = {"bio": lambda: _bio_graph(out), "pqa": lambda: _pqa_graph(out, ner_model),
                "fin": lambda: _fin_graph(out), "findings": lambda: _findings_graph(out),
                "results": lambda: _results_graph(out), "results-lc": lambda: _results_lc_graph(out)}
    for name in graphs:
        started = time.perf_counter()
        info.update(builders[name]())
        info[f"{name}_graph_seconds"] = round(time.perf_counter() - started, 1)
    for name in graphs:
        store = SQLiteStore.open(out / f"{name}.db", create=False)
        t0 = time.perf_counter()
        res = train_embeddings(store, TrainConfig(model="transe", dim=32, epochs=60, seed=0, patience=2,
                                                  max_seconds=emb_seconds))
        res.embeddings.save(out / f"emb-{name}")
        info[f"{name}_embedding_seconds"] = round(time.perf_counter() - t0, 1)
        info[f"{name}_embedding_valid_mrr"] = res.embeddings.meta.valid_mrr
        store.close()
    (out / "prepared.json").write_text(json.dumps(info, indent=1))
    return info


QUICK_GRAPHS = ("bio", "fin")  # the graphs prepare_for_quick builds


def need_prepared(prepared: Path, need: tuple[str, ...], who: str, quick: bool, graph: str = "bio") -> None:
    """Before a benchmark reads the files ``need`` of ``prepared`` (of its prepared ``graph``): a --quick run
    (``quick``) makes them first when ``prepare_for_quick`` can (the bio and fin graphs); then a file still
    missing ends the run with one line saying how to make it."""
    prepared = Path(prepared)
    if quick and graph in QUICK_GRAPHS:  # a fresh checkout has no prepared graph: make it, as run --quick does
        prepare_for_quick(prepared, need, who)
    missing = [n for n in need if not (prepared / n).exists()]
    if missing:
        sys.exit(f"error: {who}: no prepared {graph} graph at {prepared} ({', '.join(missing)} missing): run "
                 f"`python benchmarks/fusion.py prepare --graphs {graph}` first"
                 + (" (or --quick)." if graph in QUICK_GRAPHS and not quick else "."))


def prepare_for_quick(prepared: Path, need: tuple[str, ...], who: str) -> None:
    """A --quick run on a fresh checkout: when any of ``need`` is missing from ``prepared``, build what ``run``
    builds itself (``prepare``'s bio and fin graphs and their TransE vectors, a few minutes on CPU), said on stderr;
    its output goes to stderr, so the benchmark's last stdout line stays its JSON."""
    from contextlib import redirect_stdout

    if all((prepared / n).exists() for n in need):
        return
    print(f"{who}: no prepared graph at {prepared}; --quick prepares it first "
          "(python benchmarks/fusion.py prepare: the bio and fin graphs and their TransE vectors)", file=sys.stderr)
    with redirect_stdout(sys.stderr):
        print(json.dumps({"prepare": prepare(prepared, 120)}))


def _bio_graph(out: Path) -> dict:
    from kg.records import Entity, Triple
    from kg.stores.sqlite import SQLiteStore
    from nlp.formats.pubtator import read_pubtator

    docs = read_pubtator(dataset("CDR_TrainingSet.PubTator.txt"))
    surfaces: dict[str, Counter] = defaultdict(Counter)
    kinds: dict[str, str] = {}
    for d in docs:
        for m in d.mentions:
            for i in m.ids:
                if i and i != "-1":
                    surfaces[i][m.text] += 1  # as written: "NO" (nitric oxide) must not become "no"
                    kinds[i] = m.label
    entities = [Entity(i, c.most_common(1)[0][0], kinds[i], tuple(s for s, _ in c.most_common(12)[1:]))
                for i, c in surfaces.items()]
    triples = {(r.head, "CAUSES", r.tail) for d in docs for r in d.relations if r.head in surfaces and r.tail in surfaces}
    hetio_kind = {}
    with open(DATA / "hetionet" / "hetionet-v1.0-nodes.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            nid, name, kind = line.rstrip("\n").split("\t")
            if kind in HETIO_KINDS:
                hetio_kind[nid] = kind
                entities.append(Entity(nid, name, "Chemical" if kind == "Compound" else "Disease"))
    with gzip.open(DATA / "hetionet" / "edges-5k.sif.gz", "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            s, meta, t = line.rstrip("\n").split("\t")
            if meta in HETIO_RELS and s in hetio_kind and t in hetio_kind:
                triples.add((s, HETIO_RELS[meta], t))
    (out / "bio.db").unlink(missing_ok=True)
    bio = SQLiteStore.open(out / "bio.db")
    bio.add([Triple(h, r, t) for h, r, t in sorted(triples)], entities)
    bio.close()
    return {"bio_entities": len(entities), "bio_triples": len(triples)}


def _pqa_graph(out: Path, ner_model: str) -> dict:
    """The biomedical graph plus what ``kgnlp ingest`` extracts from PQA-L's 1,000 abstracts (``CONTEXTS`` only:
    the task's own inputs, never an answer or a conclusion), in ``pqa.db``: the issue's "graph from ingesting
    the abstracts". Extraction is the ingest pipeline's (spaCy + graph names + pattern relations), with the
    trained BC5CDR NER model ``ner_model`` as an extra layer when that folder exists."""
    from kg.records import Document
    from kg.stores.sqlite import SQLiteStore
    from nlp.ingest import ingest_documents
    from nlp.loaders import LoadedDocument

    if not (out / "bio.db").exists():
        _bio_graph(out)
    data = json.loads(dataset("ori_pqal.json").read_text(encoding="utf-8"))
    docs = [LoadedDocument.of(Document(pmid, " ".join(item["CONTEXTS"]), f"pubmedqa:{pmid}"))
            for pmid, item in sorted(data.items())]
    layers = []
    if ner_model and Path(ner_model).is_dir():
        from nlp.ner import load_ner_model

        layers.append(load_ner_model(Path(ner_model)))
    (out / "pqa.db").unlink(missing_ok=True)
    shutil.copy(out / "bio.db", out / "pqa.db")
    store = SQLiteStore.open(out / "pqa.db", create=False)
    report = ingest_documents(store, docs, extra_ner=layers)
    stats = store.stats()
    store.close()
    return {"pqa_documents": report.documents, "pqa_added_entities": report.entities,
            "pqa_added_relations": report.relations, "pqa_entities": stats.entities, "pqa_triples": stats.relations,
            "pqa_ner_model": Path(ner_model).name if layers else "none (graph names + spaCy)"}


def _findings_graph(out: Path) -> dict:
    """``data/findings`` (how studies report results and what each way of saying it signals) in ``findings.db``,
    for PubMedQA, without the biomedical graph."""
    return _seed_graph(out, "findings", FINDINGS_GRAPH)


def _results_graph(out: Path) -> dict:
    """The findings of PQA-L's abstracts, in ``results.db`` with FAISS indexes in ``results-ws`` (module doc)."""
    from kg.index.items import text_hash
    from kg.stores.sqlite import SQLiteStore
    from kg.workspace import Workspace
    from nlp.findings import pubmedqa_passages
    from nlp.index_sync import update_indexes

    if not (out / "findings.db").exists():
        _findings_graph(out)
    reader = _findings_reader(out)
    (out / "results.db").unlink(missing_ok=True)
    store = SQLiteStore.open(out / "results.db")
    store.add([], list(reader.evidence))
    counts: Counter = Counter()
    for doc, parts in pubmedqa_passages(dataset("ori_pqal.json")):
        store.add_extraction(reader.read(doc, parts, counts), text_hash(doc.text))
    shutil.rmtree(out / "results-ws", ignore_errors=True)
    ws = Workspace.open(out / "results-ws", create=True)
    update_indexes(ws, store)  # REPORTED_IN is a built-in relation
    store.close()
    return {"results_findings": sum(v for k, v in counts.items() if k != "none"), "results_sentences": dict(counts)}


def _results_lc_graph(out: Path) -> dict:
    """``results`` plus the findings read the same way in the conclusions (``LONG_ANSWER``) of the 500 PQA-L
    questions outside the official test set, in ``results-lc.db`` / ``results-lc-ws``. ``--long-answers`` trains
    on those conclusions as passages; with ``--retrieve-from passage`` they now get facts too. Test inputs never
    hold a conclusion, so the scope keeps these facts from them. Built on copies of ``results`` (FAISS embeds only
    the new items): each conclusion is its own document, ``<pmid>:conclusion``."""
    from kg.index.items import text_hash
    from kg.stores.sqlite import SQLiteStore
    from kg.workspace import Workspace
    from nlp.findings import pubmedqa_passages
    from nlp.index_sync import update_indexes

    if not (out / "results-ws").is_dir():
        _results_graph(out)
    shutil.rmtree(out / "results-lc-ws", ignore_errors=True)
    shutil.copy(out / "results.db", out / "results-lc.db")
    shutil.copytree(out / "results-ws", out / "results-lc-ws")
    reader = _findings_reader(out)
    test_ids = set(json.loads(dataset("test_ground_truth.json").read_text()))
    store = SQLiteStore.open(out / "results-lc.db", create=False)
    counts: Counter = Counter()
    for doc, parts in pubmedqa_passages(dataset("ori_pqal.json"), long_answers=True, skip=test_ids):
        if doc.id.endswith(":conclusion"):  # the abstracts' findings are in the copy of results.db
            store.add_extraction(reader.read(doc, parts, counts), text_hash(doc.text))
    ws = Workspace.open(out / "results-lc-ws", create=False)
    update_indexes(ws, store)
    store.close()
    return {"conclusion_findings": sum(v for k, v in counts.items() if k != "none"),
            "conclusion_sentences": dict(counts)}


def _findings_reader(out: Path):
    """``nlp.findings.FindingsReader`` over the ``data/findings`` cue graph in ``findings.db``."""
    from kg.stores.sqlite import SQLiteStore
    from fusion.context import NameLinker
    from nlp.findings import FindingsReader

    cues = SQLiteStore.open(out / "findings.db", create=False)
    try:
        return FindingsReader.from_graph(NameLinker.from_store(cues), cues.entities(), cues.triples())
    finally:
        cues.close()


def _fin_graph(out: Path) -> dict:
    """``data/finance`` (concept graph) + ``data/seed`` in a fresh ``fin.db``."""
    return _seed_graph(out, "fin", FIN_GRAPH, FIN_GRAPH.parent / "seed")


def _seed_graph(out: Path, name: str, concepts: Path, *more: Path) -> dict:
    """Seed folders (``concepts`` first, its schema copied along as ``<name>-schema.toml``) in a fresh
    ``<name>.db``."""
    from kg.schema import load_schema
    from kg.seed import read_seed
    from kg.stores.sqlite import SQLiteStore

    shutil.copy(concepts / "schema.toml", out / f"{name}-schema.toml")
    schema = load_schema(out / f"{name}-schema.toml")
    folders = (concepts, *more)
    parts = [read_seed(folder, schema) for folder in folders]
    (out / f"{name}.db").unlink(missing_ok=True)
    store = SQLiteStore.open(out / f"{name}.db")
    for part in parts:
        store.add(part.triples, part.entities)
    store.close()
    return {f"{name}_graph": " + ".join(f"data/{f.name}" for f in folders),
            f"{name}_entities": sum(len(p.entities) for p in parts), f"{name}_triples": sum(len(p.triples) for p in parts)}


# ---------------------------------------------------------------- tasks
def fpb_rows() -> list[tuple[str, str]]:
    """Sentences_50Agree as (text, label), in file order."""
    rows = []
    for line in dataset("fpb.txt").read_bytes().decode("latin-1").splitlines():
        text, _, label = line.rpartition("@")
        if text:
            rows.append((text.strip(), label.strip()))
    return rows


def fpb_parts(n: int, seed: int) -> tuple[list[int], list[int], list[int]]:
    """The fixed 80/10/10 split of ``n`` rows by ``seed``: train, dev and test row numbers."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order[: int(0.8 * n)], order[int(0.8 * n): int(0.9 * n)], order[int(0.9 * n):]


def fpb_split(seed: int, n_train: int, n_test: int):
    """Fixed 80/10/10 split of Sentences_50Agree by ``seed``; then the first ``n_train``/``n_test`` of train/test."""
    from fusion.data import TextExample

    rows = [TextExample(text, (label,)) for text, label in fpb_rows()]
    train, dev, test = ([rows[i] for i in part] for part in fpb_parts(len(rows), seed))
    return train[:n_train], dev[: max(50, n_train // 8)], test[:n_test]


def pubmedqa_split(seed: int, n_train: int, n_test: int, long_answers: bool = False,
                   train_on_dev: bool = False):
    """Official PQA-L split: 500 test ids; the other 500 are train (50 of them dev, by seed; ``train_on_dev``: no
    dev, those 50 are trained on too). ``long_answers``: the training questions also come with their conclusions
    as the text (dev and test never do)."""
    from fusion.data import pubmedqa_examples

    test_ids = set(json.loads(dataset("test_ground_truth.json").read_text()))
    data = json.loads(dataset("ori_pqal.json").read_text())
    train_ids = sorted(set(data) - test_ids)
    random.Random(seed).shuffle(train_ids)
    dev_ids, train_ids = set(train_ids[:50]), set(train_ids[50:50 + n_train])
    if train_on_dev:
        dev_ids, train_ids = set(), train_ids | dev_ids
    return (pubmedqa_examples(data, train_ids, long_answers), pubmedqa_examples(data, dev_ids),
            pubmedqa_examples(data, test_ids)[:n_test])


def run_classification(task, examples, encoder, fusion, knowledge, settings, max_length, work, truncation_side="right",
                       fact_words="branch", fact_share=0.0, retrieved=0, retrieve_from="graph", kg_readout=False):
    from fusion.config import FusionConfig
    from fusion.model import FusedModel
    from fusion.predict import outputs, sequence_scores
    from fusion.tasks import train_classifier
    from fusion.examples import InputBuilder
    from transformers import AutoTokenizer

    train, dev, test = examples
    cfg = FusionConfig(head="sequence", fusion=fusion, max_length=max_length, max_facts=4,
                       truncation_side=truncation_side, fact_words=fact_words, fact_share=fact_share,
                       retrieved=retrieved if fusion in ("facts", "both") else 0, retrieve_from=retrieve_from,
                       kg_readout=kg_readout and fusion in ("embeddings", "both"))
    report = train_classifier(train, work, cfg, encoder=encoder, knowledge=knowledge, settings=settings, dev=dev)
    model = FusedModel.load(work).to(settings.device)
    tok = AutoTokenizer.from_pretrained(str(work))
    builder = InputBuilder(tok, model.config, knowledge, model.entity_row)
    index = {lab: i for i, lab in enumerate(model.config.labels)}
    builder.prefetch([e.text for e in test], [e.pair for e in test])
    items = [builder.sequence(e.text, index.get(e.labels[0], -1), e.pair) for e in test]
    _sync(settings.device)
    t0 = time.perf_counter()
    logits = outputs(model, items, 32, settings.device)
    _sync(settings.device)
    infer = time.perf_counter() - t0
    predicted = Counter(model.config.labels[int(lg.argmax())] for lg in logits)
    scores = sequence_scores(model, items, device=settings.device)
    linked = sum(1 for it in items if any(it.entity_rows) or len(it) > sum(len(b) for b in it.body) + 1 + len(it.body))
    return {"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"], "train_seconds": report.train.seconds,
            "epochs": report.train.epochs_run, "best_epoch": report.train.best_epoch,
            "infer_per_s": len(items) / infer, "n_test": len(items), "n_train": len(train), "test_with_knowledge": linked,
            "history": list(report.train.history),  # loss and dev score per epoch
            "predicted": dict(sorted(predicted.items()))}  # test predictions per label


def run_ner(examples, encoder, fusion, knowledge, settings, max_length, work, fact_words="branch", fact_share=0.0):
    from fusion.examples import InputBuilder
    from fusion.model import FusedModel
    from fusion.ner import ner_f1, predict_fused_ner, train_fused_ner
    from transformers import AutoTokenizer

    train, dev, test = examples
    report = train_fused_ner(train, work, fusion=fusion, encoder=encoder, dev_docs=dev, settings=settings,
                             max_length=max_length, knowledge=knowledge, fact_words=fact_words, fact_share=fact_share)
    model = FusedModel.load(work).to(settings.device)
    tok = AutoTokenizer.from_pretrained(str(work))
    builder = InputBuilder(tok, model.config, knowledge, model.entity_row)
    _sync(settings.device)
    t0 = time.perf_counter()
    pred = predict_fused_ner(model, builder, test)
    _sync(settings.device)
    infer = time.perf_counter() - t0
    scores = ner_f1(test, pred)
    return {"f1": scores["f1"], "precision": scores["precision"], "recall": scores["recall"],
            "train_seconds": report.train.seconds, "epochs": report.train.epochs_run,
            "best_epoch": report.train.best_epoch, "infer_docs_per_s": len(test) / infer, "n_test": len(test),
            "n_train": len(train), "history": list(report.train.history)}  # loss and dev score per epoch


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def run(args) -> dict:
    import torch

    from fusion.context import NameLinker
    from fusion.examples import Knowledge
    from fusion.train import TrainSettings
    from kg.embeddings import KGEmbeddings
    from kg.schema import Schema, load_schema
    from kg.stores.sqlite import SQLiteStore
    from nlp.formats.pubtator import read_pubtator
    from nlp.models import matmul_precision

    prepared = Path(args.prepared)
    if not (prepared / "prepared.json").exists():
        print(json.dumps({"prepare": prepare(prepared, args.embedding_seconds)}), file=sys.stderr)
    size = run_size(args)
    fusions = args.fusion.split(",")
    tasks = args.tasks.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    encoder = args.encoder or str(_default_encoder())
    graphs = ("bio", "fin", args.pubmedqa_graph) if "pubmedqa" in tasks else ("bio", "fin")
    if not (prepared / f"{graphs[-1]}.db").exists():
        sys.exit(f"error: {prepared / graphs[-1]}.db is missing: run `benchmarks/fusion.py prepare --graphs "
                 f"{graphs[-1]}` first")
    stores = {n: SQLiteStore.open(prepared / f"{n}.db", create=False) for n in dict.fromkeys(graphs)}
    linkers = {n: NameLinker.from_store(s) for n, s in stores.items()}
    retrievers = {}
    if args.retrieved:
        from nlp.retrieval import Retriever

        retrievers = {n: Retriever.open(prepared / f"{n}-ws", s, schema=load_schema(prepared / f"{n}-schema.toml"),
                                        on_drift="error") for n, s in stores.items() if (prepared / f"{n}-ws").is_dir()}
        if not retrievers:
            sys.exit("error: --retrieved needs a graph with FAISS indexes: `benchmarks/fusion.py prepare --graphs "
                     "results` and --pubmedqa-graph results")
    embs = {n: KGEmbeddings.load(prepared / f"emb-{n}") for n in stores}
    if args.entity_vectors == "all":
        embs = {n: with_name_vectors(e, stores[n], prepared / f"emb-{n}-all") for n, e in embs.items()}
    vectors = {n: {"entities": sum(1 for _ in s.entities()), "with_vector": len(embs[n])} for n, s in stores.items()}
    if args.kg_control != "none":
        embs = {n: _permuted(e, stores[n] if args.kg_control == "permuted-within-type" else None)
                for n, e in embs.items()}
    schemas = {n: load_schema(prepared / f"{n}-schema.toml") for n in stores}  # no such file (bio): built-ins
    if args.direction_conditions:  # data/finance ships without them (they did not help PhraseBank, BENCHMARKS.md)
        when = {"RISING_IS": ("fin:increase",), "FALLING_IS": ("fin:decrease",)}
        schemas["fin"] = Schema(tuple(replace(r, when=when.get(r.name, r.when)) for r in schemas["fin"].relations))
    conditions = {n: {r.name: list(r.when) for r in s.relations if r.when} for n, s in schemas.items()}
    bc_train = read_pubtator(dataset("CDR_TrainingSet.PubTator.txt"))
    bc_dev = read_pubtator(dataset("CDR_DevelopmentSet.PubTator.txt"))
    bc_test = read_pubtator(dataset("CDR_TestSet.PubTator.txt"))
    results: dict = {t: {f: [] for f in fusions} for t in tasks}
    work_root = Path(tempfile.mkdtemp(prefix="fusion-bench-"))
    torch.set_num_threads(args.threads) if args.threads else None
    for seed in seeds:  # seed-major, so a run cut short still holds whole comparisons
        for task in tasks:
            graph = {"fpb": "fin", "pubmedqa": args.pubmedqa_graph}.get(task, "bio")
            for fusion in fusions:
                knowledge = None if fusion == "none" else Knowledge(
                    store=stores[graph], linker=linkers[graph], embeddings=embs[graph], schema=schemas[graph],
                    facts_per_entity=2, retriever=retrievers.get(graph))
                settings = TrainSettings(epochs=args.epochs or size["epochs"], batch_size=16, learning_rate=args.lr,
                                         seed=seed, patience=args.patience, device=args.device,
                                         class_weight=args.class_weight if task != "ner" else "none",
                                         precision=args.precision,
                                         knowledge_dropout=0.0 if fusion == "none" else args.knowledge_dropout,
                                         train_layers=args.train_layers)
                work = work_root / f"{task}-{fusion}-{seed}"
                n_train, n_test = size[task]
                n_train = args.train or n_train
                t0 = time.perf_counter()
                if task == "ner":
                    rng = random.Random(seed)
                    tr = rng.sample(bc_train, min(n_train, len(bc_train)))
                    n_dev = 0 if args.no_dev else 3 if size is SIZES["smoke"] else 40
                    if args.ner_train_dev:  # the dev abstracts that early stopping does not read
                        tr += bc_dev[n_dev:]
                    res = run_ner((tr, bc_dev[:n_dev], bc_test[:n_test]), encoder, fusion,
                                  knowledge, settings, 128, work, args.fact_words, args.fact_share)
                elif task == "fpb":
                    train, dev, test = fpb_split(seed, n_train, n_test)
                    split = (train + dev, [], test) if args.no_dev else (train, dev, test)
                    res = run_classification(task, split, encoder, fusion,
                                             knowledge, settings, 96, work, args.truncation_side, args.fact_words,
                                             args.fact_share, kg_readout=args.kg_readout)
                else:
                    split = pubmedqa_split(seed, n_train, n_test, args.long_answers, args.no_dev)
                    res = run_classification(task, split, encoder, fusion, knowledge, settings, args.pubmedqa_length,
                                             work, args.truncation_side, args.fact_words, args.fact_share,
                                             args.retrieved if graph in retrievers else 0, args.retrieve_from,
                                             args.kg_readout)
                res["seed"], res["wall_seconds"] = seed, round(time.perf_counter() - t0, 1)
                results[task][fusion].append(res)
                print(json.dumps({"task": task, "fusion": fusion, **res}), file=sys.stderr, flush=True)
                shutil.rmtree(work, ignore_errors=True)
                _write_partial(args, results)
    shutil.rmtree(work_root, ignore_errors=True)
    for retriever in retrievers.values():
        retriever.close()
    return {"config": {"quick": args.quick, "quick_set": args.quick_set, "smoke": args.smoke, "sizes": size,
                       "seeds": seeds, "device": args.device,
                       "encoder": Path(encoder).name, "lr": args.lr,
                       "epochs": args.epochs or size["epochs"], "patience": args.patience,
                       "class_weight": args.class_weight, "pubmedqa_length": args.pubmedqa_length,
                       "truncation_side": args.truncation_side, "fact_words": args.fact_words, "fact_share": args.fact_share,
                       "long_answers": args.long_answers,
                       "pubmedqa_graph": args.pubmedqa_graph, "retrieved": args.retrieved,
                       "retrieve_from": args.retrieve_from,
                       "kg_control": args.kg_control, "train": args.train,
                       "entity_vectors": args.entity_vectors, "graph_vectors": vectors,
                       "ner_train_dev": args.ner_train_dev, "no_dev": args.no_dev, "knowledge_dropout": args.knowledge_dropout,
                       "train_layers": args.train_layers, "kg_readout": args.kg_readout,
                       "fact_conditions": conditions,
                       "threads": torch.get_num_threads(),
                       "precision": matmul_precision(args.precision, args.device.split(":")[0]),
                       "prepared": json.loads((prepared / "prepared.json").read_text())},
            "summary": summarise(results), "runs": results}


def with_name_vectors(emb, store, cache: Path):
    """``kgnlp train --entity-vectors all`` (``fusion.examples.vectors_for_training``): graph entities without a
    fact (so without a trained vector) get one mapped from their name's sentence embedding, marked inferred.
    Deterministic; kept in ``cache`` beside the trained table of ``prepare``, which stays as it was."""
    from fusion.examples import vectors_for_training
    from kg.embeddings import KGEmbeddings

    if (cache / "meta.json").exists():
        cached = KGEmbeddings.load(cache)
        if cached.entity_ids[:len(emb)] == emb.entity_ids:
            return cached
    full = vectors_for_training(emb, store, "all")
    full.save(cache)
    return full


def _permuted(emb, store=None):
    """The same vectors dealt to the wrong entities (a fixed permutation): each entity keeps a vector of its
    own, so linked tokens are still marked, but what the graph says about it is gone. With ``store``, vectors
    are dealt only among entities of the same type (a chemical gets another chemical's vector): what the type
    says survives, what the entity's own edges say does not."""
    import numpy as np

    rng = np.random.default_rng(0)
    if store is None:
        return replace(emb, entity_vectors=emb.entity_vectors[rng.permutation(len(emb.entity_ids))])
    types = {e.id: e.type for e in store.entities()}
    groups: dict[str, list[int]] = {}
    for row, eid in enumerate(emb.entity_ids):
        groups.setdefault(types.get(eid, ""), []).append(row)
    perm = np.arange(len(emb.entity_ids))
    for rows in groups.values():
        perm[rows] = np.asarray(rows)[rng.permutation(len(rows))]
    return replace(emb, entity_vectors=emb.entity_vectors[perm])


def add_retrieval_options(parser: argparse.ArgumentParser) -> None:
    """``--retrieved`` and ``--retrieve-from``, as ``run`` here and ``fusion_speed.py`` take them."""
    parser.add_argument("--retrieved", type=int, default=0, help="fused models with facts also read this many facts "
                        "from the graph's FAISS fact index, most like the question (only graphs with an index: "
                        "results, results-lc)")
    parser.add_argument("--retrieve-from", default="graph", choices=("graph", "passage", "sentence"),
                        help="--retrieved facts from the whole index (graph) or only those read in the question's "
                        "own abstract (passage), or those placed after the abstract sentence they were read in "
                        "(sentence)")


def summarise(results: dict) -> dict:
    out: dict = {}
    for task, by_fusion in results.items():
        for fusion, runs in by_fusion.items():
            if not runs:
                continue
            keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float)) and k != "seed"]
            out.setdefault(task, {})[fusion] = {k: _spread([r[k] for r in runs]) for k in keys}
    return out


def _spread(xs: list[float]) -> dict:
    """Mean and sample standard deviation (0 for one value), rounded as every summary here is."""
    return {"mean": round(statistics.mean(xs), 4), "std": round(statistics.stdev(xs), 4) if len(xs) > 1 else 0.0}


def _runs_of(spec: str, task: str) -> list[dict]:
    """The runs of ``task`` in ``[FUSION@]FILE[,FILE...]`` (``run``'s JSON or ``--partial`` files); without
    ``FUSION`` each file must hold runs of one fusion variant for the task."""
    fusion, _, files = spec.rpartition("@")
    runs: list[dict] = []
    for name in files.split(","):
        try:
            by_fusion = json.loads(Path(name).read_text())["runs"].get(task, {})
        except (OSError, ValueError, KeyError, AttributeError) as e:
            raise SystemExit(f"compare: cannot read runs from {name}: {e}") from None
        variants = [fusion] if fusion else list(by_fusion)
        if len(variants) != 1 or variants[0] not in by_fusion:
            raise SystemExit(f"compare: {name} holds {task} runs of {sorted(by_fusion) or 'no variant'}; "
                             f"name one as FUSION@{name}")
        runs += by_fusion[variants[0]]
    return runs


def compare(specs: list[str], task: str, metric: str) -> dict:
    """Per-seed ``metric`` of each ``LABEL=[FUSION@]FILE,...``, mean ± std, and each later label against the
    first, paired by seed (mean ± std of the differences, and on how many seeds it is ahead): the figures
    BENCHMARKS.md gives, computed from the raw JSON rather than by hand."""
    table: dict[str, dict[int, float]] = {}
    for spec in specs:
        label, sep, rest = spec.partition("=")
        if not sep or not label or not rest:
            raise SystemExit(f"compare: {spec!r} is not LABEL=[FUSION@]FILE[,FILE...]")
        by_seed: dict[int, float] = {}
        for r in _runs_of(rest, task):
            if metric not in r:
                raise SystemExit(f"compare: a {task} run in {rest} has no {metric!r}")
            if r["seed"] in by_seed:
                raise SystemExit(f"compare: seed {r['seed']} comes twice in {label}")
            by_seed[r["seed"]] = r[metric]
        table[label] = dict(sorted(by_seed.items()))

    def spread(xs: list[float]) -> dict:
        return {**_spread(xs), "n": len(xs)}

    base_label, base = next(iter(table.items()))
    out: dict = {"task": task, "metric": metric, "base": base_label, "variants": {}}
    for label, by_seed in table.items():
        row: dict = {"by_seed": by_seed, **spread(list(by_seed.values()))}
        shared = [s for s in by_seed if s in base]
        if label != base_label and shared:
            diffs = [by_seed[s] - base[s] for s in shared]
            row["paired"] = {**spread(diffs), "seeds": shared, "ahead": sum(d > 0 for d in diffs),
                             "behind": sum(d < 0 for d in diffs)}
        out["variants"][label] = row
        line = f"{label:>24}  " + " ".join(f"{v:.3f}" for v in by_seed.values()) + \
            f"  mean {row['mean']:.3f} ± {row['std']:.3f}"
        if "paired" in row:
            pd = row["paired"]
            line += (f"  vs {base_label}: {100 * pd['mean']:+.1f} ± {100 * pd['std']:.1f} "
                     f"(ahead on {pd['ahead']}, behind on {pd['behind']} of {pd['n']} seeds)")
        print(line)
    return out


def _write_partial(args, results) -> None:
    if args.partial:
        Path(args.partial).write_text(json.dumps({"summary": summarise(results), "runs": results}, indent=1))


def _default_encoder() -> Path:
    from nlp.models import encoder_path

    return encoder_path(None)


def main() -> None:
    from fusion.train import CLASS_WEIGHTS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--out", default="benchmarks/.work/fusion")
    pp.add_argument("--embedding-seconds", type=int, default=120)
    pp.add_argument("--graphs", default="bio,fin", help="which graphs to (re)build: bio, fin, pqa (bio + the "
                    "ingested PQA-L abstracts), findings (data/findings), results (the findings of PQA-L's results "
                    "sections, with FAISS indexes), results-lc (results + the findings of the non-test questions' "
                    "conclusions), comma-separated")
    pp.add_argument("--ner-model", default=str(Path(__file__).resolve().parent / ".models" / "bc5cdr-spacy"),
                    help="pqa graph: a trained NER model folder used by the ingest (skipped if missing)")
    pc = sub.add_parser("compare", help="per-seed figures, mean ± std and paired differences from run JSON files")
    pc.add_argument("specs", nargs="+", metavar="LABEL=[FUSION@]FILE[,FILE...]",
                    help="the first is the base the others are paired with, by seed")
    pc.add_argument("--task", default="ner", choices=("ner", "fpb", "pubmedqa"))
    pc.add_argument("--metric", default="", help="default: f1 for ner, accuracy otherwise")
    pr = sub.add_parser("run")
    pr.add_argument("--prepared", default="benchmarks/.work/fusion")
    pr.add_argument("--embedding-seconds", type=int, default=120)
    sizes = pr.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="check the benchmark end to end in minutes (`make "
                    "bench-quick`): --smoke's sizes, and unless given --seeds 1, --fusion none,both and "
                    f"--pubmedqa-length {QUICK_PUBMEDQA_LENGTH}")
    sizes.add_argument("--quick-set", action="store_true", help="the quick configuration of BENCHMARKS.md: small "
                    "subsets (SIZES['quick']; `run --quick` before 2026-12-02)")
    sizes.add_argument("--smoke", action="store_true", help="a few examples per task, to check the wiring")
    pr.add_argument("--fusion", default=None, help="comma-separated (default none,facts,embeddings,both)")
    pr.add_argument("--tasks", default="ner,fpb,pubmedqa")
    pr.add_argument("--seeds", default=None, help="comma-separated (default 1,2,3)")
    pr.add_argument("--device", default="cpu")
    pr.add_argument("--encoder", default="")
    pr.add_argument("--lr", type=float, default=5e-5)
    pr.add_argument("--threads", type=int, default=0)
    pr.add_argument("--epochs", type=int, default=0, help="0 = the size's default (SIZES)")
    pr.add_argument("--patience", type=int, default=2, help="epochs without dev gain before stopping")
    pr.add_argument("--class-weight", default="none", choices=CLASS_WEIGHTS,
                    help="classification tasks: balanced = loss weighted by n / (k * count) per class")
    pr.add_argument("--precision", default="", help="training arithmetic: auto, fp32 or bf16 (default: "
                    "$KGNLP_PRECISION, else auto; runs before 2026-11-29 trained in fp32)")
    pr.add_argument("--train", type=int, default=0, help="training examples per task (0 = the size's default; "
                    "for a learning curve)")
    pr.add_argument("--kg-control", default="none", choices=("none", "permuted", "permuted-within-type"),
                    help="permuted = a control: the graph's entity vectors dealt to the wrong entities; "
                    "permuted-within-type: dealt only among entities of the same type")
    pr.add_argument("--ner-train-dev", action="store_true",
                    help="NER: train also on BC5CDR's dev abstracts 41-500 (the first 40 stay for early stopping), "
                    "as the extraction benchmark trains on train+dev")
    pr.add_argument("--no-dev", action="store_true",
                    help="no early stopping and no dev set: its examples are trained on too (FPB's 10 %%, PubMedQA's 50 "
                    "questions, with --ner-train-dev all 500 BC5CDR dev abstracts) and the last of --epochs is kept")
    pr.add_argument("--entity-vectors", default="trained", choices=("trained", "all"),
                    help="trained = TransE vectors only (entities with facts); all = also a vector from the name "
                    "for every other graph entity, as `kgnlp train --entity-vectors all` gives")
    pr.add_argument("--knowledge-dropout", type=float, default=0.0, help="training: hide the graph's knowledge of "
                    "this share of linked mentions in each step (`kgnlp train --knowledge-dropout`)")
    pr.add_argument("--direction-conditions", action="store_true", help="PhraseBank: a measure's RISING_IS fact only "
                    "with a sentence that links fin:increase, FALLING_IS only with fin:decrease (the schema's `when`)")
    pr.add_argument("--kg-readout", action="store_true", help="classification: embeddings and both models also "
                    "read the mean KG vector of the input's knowledge straight into the logits "
                    "(`kgnlp train classify|qa --kg-readout`)")
    pr.add_argument("--train-layers", type=int, default=-1, help="encoder layers fine-tuned, from the top (-1 = all; "
                    "0 = the encoder fixed, only fusion layers and head learn; `kgnlp train --train-layers`)")
    pr.add_argument("--pubmedqa-length", type=int, default=None, help="PubMedQA input length in tokens "
                    "(question + abstract; the abstracts average ~330 tokens, MiniLM takes 512; default 256)")
    pr.add_argument("--truncation-side", default="right", choices=("right", "left"),
                    help="classification tasks: which end of an overlong text is cut (left keeps the end: "
                    "an abstract's results)")
    pr.add_argument("--long-answers", action="store_true", help="PubMedQA: train also on each training "
                    "question with its abstract's conclusion as the text (the reasoning-free setting)")
    pr.add_argument("--pubmedqa-graph", default="bio", choices=("bio", "pqa", "findings", "results", "results-lc"),
                    help="PubMedQA's graph: bio (BC5CDR + Hetionet), pqa (bio + the ingested PQA-L abstracts; "
                    "`prepare --graphs pqa`), findings (the concept graph data/findings alone; `prepare --graphs "
                    "findings`), results (the findings read in PQA-L's results sections; `prepare --graphs results`) or "
                    "results-lc (those + the findings of the non-test questions' conclusions)")
    add_retrieval_options(pr)
    pr.add_argument("--fact-words", default="branch", choices=("branch", "sentence"),
                    help="K-BERT facts after their mention: branch (without the entity's name, K-BERT's form; "
                    "the default since 2026-11-29) or sentence (the whole fact, as runs before then)")
    pr.add_argument("--fact-share", type=float, default=0.0, help="facts get at most this share of an input's own "
                    "tokens (0 = no such limit)")
    pr.add_argument("--partial", default="", help="write results so far to this JSON file after every run")
    argv = sys.argv[1:]
    if not argv or argv[0] not in ("prepare", "run", "compare", "-h", "--help"):
        argv = ["run", *argv]  # `python benchmarks/fusion.py [--quick]` is the run, like every benchmark
    args = p.parse_args(argv)
    if args.cmd == "prepare":
        graphs = tuple(g for g in args.graphs.split(",") if g)
        if not graphs or set(graphs) - {"bio", "fin", "pqa", "findings", "results", "results-lc"}:
            p.error(f"--graphs takes bio, fin, pqa, findings, results and results-lc, comma-separated, not {args.graphs!r}")
        print(json.dumps(prepare(Path(args.out), args.embedding_seconds, graphs, args.ner_model)))
        return
    if args.cmd == "compare":
        print(json.dumps(compare(args.specs, args.task, args.metric or ("f1" if args.task == "ner" else "accuracy"))))
        return
    print(json.dumps(run(with_run_defaults(args))))


def run_size(args: argparse.Namespace) -> dict:
    """The SIZES entry of a run: --smoke and --quick take a few examples per task, --quick-set the quick
    configuration, else the full data."""
    return SIZES["smoke" if args.smoke or args.quick else "quick" if args.quick_set else "full"]


def with_run_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """``run``'s options left unset (None) get their defaults: those of a full run, or with --quick the few runs
    that check the benchmark end to end (one seed, ``none`` against ``both``, short PubMedQA inputs)."""
    quick = args.quick
    return argparse.Namespace(**{**vars(args),
                                 "fusion": args.fusion or ("none,both" if quick else "none,facts,embeddings,both"),
                                 "seeds": args.seeds or ("1" if quick else "1,2,3"),
                                 "pubmedqa_length": args.pubmedqa_length or (QUICK_PUBMEDQA_LENGTH if quick else 256)})


if __name__ == "__main__":
    main()
