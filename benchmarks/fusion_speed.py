"""Inference speed of fused models on CPU: none | facts | embeddings | both, same weights, same texts, one run.

    python benchmarks/fusion_speed.py [--quick] [--docs N] [--threads 2] [--rounds 2]     # NER (BC5CDR)
    python benchmarks/fusion_speed.py --task pubmedqa [--docs N]                          # yes/no/maybe classifier
    python benchmarks/fusion_speed.py --task fpb [--docs N]                               # PhraseBank sentiment

``--task pubmedqa`` times the sequence head over the official PubMedQA test questions (question + abstract,
256 tokens); ``--task fpb`` over Financial PhraseBank test sentences (seed 1's split, 96 tokens, the financial
concept graph): building each input (linking, fact lookup, masks) plus the forward pass, per variant.

Needs the prepared graphs and TransE embeddings (``python benchmarks/fusion.py prepare``; --quick prepares them when
missing). Every
variant is a ``FusedNER`` built from the default encoder with the SAME weights (seeded, untrained: inference
cost does not depend on training quality); ``none`` runs without knowledge, the others link names against the
graph, look up and rank facts, and fuse them. Each timed pass starts with cold knowledge caches (no text or
entity seen before), so linking and fact lookup are paid in full; warm-up runs on other (dev-set) abstracts.
Passes are interleaved (round 1 in one order, round 2 reversed, ...) so machine noise hits all variants.
Last stdout line: one JSON object with every figure (docs/s, ratio to ``none``, load average, knowledge sizes).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.shared_data import dataset  # noqa: E402  (../shared/datasets, read in place)

PREPARED = Path(__file__).resolve().parent / ".work" / "fusion"
VARIANTS = ("none", "facts", "embeddings", "both")


def load_graph(prepared: Path, graph: str = "bio", entity_vectors: str = "trained"):
    """``(store, linker, embeddings, schema)`` of a prepared graph (``bio``, ``fin``, ``findings``, ...); its schema
    is ``<graph>-schema.toml`` beside it, else the built-in one. ``entity_vectors="all"``: every graph entity has a
    vector, as ``kgnlp train --entity-vectors all`` (cached as ``emb-<graph>-all``, as ``fusion.py run`` does)."""
    from fusion.context import NameLinker
    from kg.embeddings import KGEmbeddings
    from kg.schema import load_schema
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(prepared / f"{graph}.db", create=False)
    schema = load_schema(prepared / f"{graph}-schema.toml")  # no such file (bio): the built-in schema
    emb = KGEmbeddings.load(prepared / f"emb-{graph}")
    if entity_vectors == "all":
        from benchmarks.fusion import with_name_vectors

        emb = with_name_vectors(emb, store, prepared / f"emb-{graph}-all")
    return store, NameLinker.from_store(store), emb, schema


def shared_variants(prepared: Path, cfg, variants=VARIANTS, seed: int = 0, graph: str = "bio",
                    entity_vectors: str = "trained", retrieved: int = 0) -> dict:
    """``{fusion: (model, InputBuilder)}`` sharing one set of weights (the ``both`` model's, fusion layers dropped
    where unused), each with its own knowledge object over the same store, linker and embeddings. ``retrieved``:
    the variants with facts also read that many facts from the graph's FAISS index (``<graph>-ws``). A ``cfg`` with
    ``kg_readout`` gives it to the variants with graph embeddings."""
    import torch

    from fusion.examples import InputBuilder, Knowledge
    from fusion.tasks import prepare

    store, linker, emb, schema = load_graph(prepared, graph, entity_vectors)
    retriever = None
    if retrieved:
        from nlp.retrieval import Retriever

        retriever = Retriever.open(prepared / f"{graph}-ws", store, schema=schema, on_drift="error")
    torch.manual_seed(seed)
    ref, tokenizer, _ = prepare(None, cfg.with_(fusion="both", retrieved=retrieved),
                                Knowledge(store=store, linker=linker, embeddings=emb, schema=schema, retriever=retriever))
    torch.nn.init.normal_(ref.kg_gate.weight, std=0.05)  # open the gate a little so the embeddings path matters
    state = ref.state_dict()
    out = {}
    for name in variants:  # "both" or "both:sentence" (facts read as whole sentences, as before 2026-11-29)
        fusion, _, words = name.partition(":")
        knowledge = None if fusion == "none" else Knowledge(store=store, linker=linker, embeddings=emb,
                                                            schema=schema, facts_per_entity=2, retriever=retriever)
        if name == "both":
            model = ref
        else:
            torch.manual_seed(seed)
            model, _, _ = prepare(None, cfg.with_(fusion=fusion, fact_words=words or "branch",
                                                  retrieved=retrieved if fusion in ("facts", "both") else 0,
                                                  kg_readout=cfg.kg_readout and fusion in ("embeddings", "both")),
                                  knowledge)
            model.load_state_dict({k: v for k, v in state.items() if k in model.state_dict()})
        model.eval()
        out[name] = (model, InputBuilder(tokenizer, model.config, knowledge, model.entity_row))
    return out


def build_variants(prepared: Path, labels, variants=VARIANTS, seed: int = 0, max_length: int = 128,
                   fact_share: float = 0.0, entity_vectors: str = "trained") -> dict:
    """``{fusion: FusedNER}`` over :func:`shared_variants`."""
    from fusion.config import FusionConfig
    from fusion.ner import FusedNER

    cfg = FusionConfig(head="token", labels=tuple(labels), max_length=max_length, dropout=0.0, fact_share=fact_share)
    return {f: FusedNER(m, b) for f, (m, b) in shared_variants(prepared, cfg, variants, seed, "bio",
                                                                entity_vectors).items()}


def build_sequence_variants(prepared: Path, variants=VARIANTS, seed: int = 0, max_length: int = 256,
                            labels=("maybe", "no", "yes"), graph: str = "bio", fact_share: float = 0.0,
                            truncation_side: str = "right", retrieved: int = 0, retrieve_from: str = "graph",
                            kg_readout: bool = False) -> dict:
    """``{fusion: (model, builder)}`` for a sequence head (default yes/no/maybe) over :func:`shared_variants`."""
    from fusion.config import FusionConfig

    cfg = FusionConfig(head="sequence", labels=tuple(labels), max_length=max_length, max_facts=4, dropout=0.0,
                       fact_share=fact_share, truncation_side=truncation_side, retrieve_from=retrieve_from,
                       kg_readout=kg_readout)
    return shared_variants(prepared, cfg, variants, seed, graph, retrieved=retrieved)


def sequence_main(args, prepared: Path) -> None:
    """``--task pubmedqa`` or ``--task fpb``: the sequence head, input building plus forward pass."""
    import json as _json

    import torch

    from fusion.data import pubmedqa_examples
    from fusion.predict import outputs

    torch.set_num_threads(args.threads)
    variants = [v for v in args.variants.split(",") if v]
    if args.task == "fpb":
        from benchmarks.fusion import fpb_split

        train, _, test = fpb_split(1, 16, 10_000)
        examples, warm = test[: args.docs or (100 if args.quick else 485)], train
        models = build_sequence_variants(prepared, variants, max_length=96, labels=("negative", "neutral", "positive"),
                                         graph="fin", fact_share=args.fact_share, kg_readout=args.kg_readout)
    else:
        test_ids = set(_json.loads(dataset("test_ground_truth.json").read_text()))
        data = _json.loads(dataset("ori_pqal.json").read_text())
        examples = pubmedqa_examples(data, test_ids)[: args.docs or (40 if args.quick else 500)]
        warm = pubmedqa_examples(data, set(data) - test_ids)[:16]
        models = build_sequence_variants(prepared, variants, graph=args.graph or "bio", fact_share=args.fact_share,
                                         truncation_side=args.truncation_side, retrieved=args.retrieved,
                                         retrieve_from=args.retrieve_from, kg_readout=args.kg_readout)

    def run(name, exs):
        model, builder = models[name]
        builder.prefetch([e.text for e in exs], [e.pair for e in exs])  # as Classifier.classify: retrieval queries embedded in batches
        items = [builder.sequence(e.text, None, e.pair) for e in exs]
        with torch.no_grad():
            return items, outputs(model, items, 32, "cpu")

    for name in variants:
        run(name, warm)
    times: dict[str, list[float]] = {v: [] for v in variants}
    sizes: dict[str, dict] = {}
    load_before = os.getloadavg()
    for r in range(args.rounds):
        for name in (variants if r % 2 == 0 else variants[::-1]):
            models[name][1].clear()
            t = time.perf_counter()
            items, _ = run(name, examples)
            times[name].append(time.perf_counter() - t)
            retriever = getattr(models[name][1].knowledge, "retriever", None)
            sizes[name] = {"tokens_per_input": round(sum(map(len, items)) / len(items), 1),
                           "inputs_with_knowledge": sum(1 for it in items if any(it.entity_rows)
                                                        or any(f >= 0 for f in it.fact_of)),
                           "queries_embedded": retriever.queries_held if retriever is not None else 0}
            print(f"round {r + 1} {name:10s} {len(examples) / times[name][-1]:7.1f} inputs/s", file=sys.stderr,
                  flush=True)
    best = {v: min(ts) for v, ts in times.items()}
    ratio = {v: round(best[v] / best["none"], 3) for v in variants} if "none" in best else {}
    print(json.dumps({"task": args.task, "inputs": len(examples), "threads": args.threads, "rounds": args.rounds,
                      "fact_share": args.fact_share, "graph": args.graph or ("fin" if args.task == "fpb" else "bio"),
                      "truncation_side": args.truncation_side, "retrieved": args.retrieved,
                      "retrieve_from": args.retrieve_from, "kg_readout": args.kg_readout, "inputs_per_s": {v: round(len(examples) / best[v], 2) for v in variants},
                      "ratio_vs_none": ratio,
                      "ratio_vs_none_per_round": {v: [round(t / n, 3) for t, n in zip(times[v], times["none"])]
                                                  for v in variants} if ratio else {},
                      "seconds": {v: [round(t, 3) for t in ts] for v, ts in times.items()},
                      "goal_1_3x": {v: ratio[v] <= 1.3 for v in ratio if v != "none"}, "sizes": sizes,
                      "load_avg_before": [round(x, 2) for x in load_before],
                      "load_avg_after": [round(x, 2) for x in os.getloadavg()], "torch": torch.__version__}))


def clear_caches(ner) -> None:
    """Forget every text, entity and fact the variant's knowledge has seen (a cold start for a timed pass)."""
    b = ner._builder
    if hasattr(b, "clear"):
        b.clear()
    elif b.knowledge is not None:  # the code before the caches had a clear()
        b.knowledge._cache.clear()
        b._fact_cache.clear()


def knowledge_sizes(ner, texts, stride: int = 32) -> dict:
    """What the variant reads and runs, averaged: linked entities per document, mentions and facts per window,
    and tokens per window with and without the injected fact tokens (the encoder's extra work)."""
    from kg.records import Document
    from nlp.formats.records import LabelledDoc
    from nlp.ner.windows import encode, windows

    from fusion.ner import _windows

    b = ner._builder
    items, _, _ = _windows(b, [LabelledDoc(Document(str(i), t)) for i, t in enumerate(texts)], None, stride)
    entities = mentions = found = 0
    for t in texts:
        enc = encode(b.tokenizer, t)
        chars = [(enc.offsets[s][0], enc.offsets[e - 1][1])
                 for s, e in windows(len(enc.ids), b.config.max_length - 2, stride)]
        ctxs = [c for c in b.window_contexts(t, chars) if c is not None]
        entities += len({e for c in ctxs for e in c.entity_ids})
        mentions += sum(len(c.mentions) for c in ctxs)
        found += sum(len(c.facts) for c in ctxs)
    n_docs, n_win = max(len(texts), 1), max(len(items), 1)
    fact_tokens = sum(sum(1 for f in it.fact_of if f >= 0) for it in items)
    tokens = sum(len(it) for it in items)
    return {"windows": len(items), "linked_entities_per_doc": round(entities / n_docs, 2),
            "linked_mentions_per_window": round(mentions / n_win, 2),
            "facts_found_per_window": round(found / n_win, 2),
            "facts_injected_per_window": round(sum(len(it.anchors) for it in items if any(f >= 0 for f in it.fact_of))
                                               / n_win, 2),
            "facts_injected_per_doc": round(sum(len(it.anchors) for it in items if any(f >= 0 for f in it.fact_of))
                                            / n_docs, 2),
            "tokens_per_window": round(tokens / n_win, 2),
            "tokens_per_window_without_facts": round((tokens - fact_tokens) / n_win, 2),
            "linked_tokens_per_window": round(sum(sum(1 for r in it.entity_rows if r) for it in items) / n_win, 2)}


def main() -> None:
    from benchmarks.fusion import add_retrieval_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prepared", default=str(PREPARED))
    p.add_argument("--quick", action="store_true", help="30 abstracts instead of 200")
    p.add_argument("--docs", type=int, default=0, help="number of BC5CDR test abstracts (default 200, quick 30)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--variants", default=",".join(VARIANTS), help="any of none, facts, embeddings, both; "
                   "facts:sentence and both:sentence read facts as whole sentences (the form before 2026-11-29)")
    p.add_argument("--task", default="ner", choices=["ner", "pubmedqa", "fpb"])
    p.add_argument("--fact-share", type=float, default=0.0, help="facts get at most this share of an input's own "
                   "tokens (0 = no such limit), every variant")
    p.add_argument("--graph", default="", choices=("", "bio", "findings", "pqa", "results"), help="--task pubmedqa: "
                   "the prepared graph to read (default bio; findings = data/findings, `fusion.py prepare --graphs "
                   "findings`; results = the findings of PQA-L's results sections, `--graphs results`)")
    add_retrieval_options(p)  # --task pubmedqa
    p.add_argument("--entity-vectors", default="trained", choices=("trained", "all"), help="NER: trained = TransE "
                   "vectors only; all = every graph entity has one (`kgnlp train --entity-vectors all`)")
    p.add_argument("--kg-readout", action="store_true", help="--task pubmedqa or fpb: the variants with graph "
                   "embeddings also read the knowledge's mean KG vector into the logits (`kgnlp train classify|qa --kg-readout`)")
    p.add_argument("--truncation-side", default="right", choices=("right", "left"), help="--task pubmedqa: which end "
                   "of an overlong abstract is cut (left keeps the results, as the PubMedQA runs train)")
    args = p.parse_args()
    from benchmarks.fusion import need_prepared

    prepared = Path(args.prepared)
    graph = {"fpb": "fin", "pubmedqa": args.graph or "bio"}.get(args.task, "bio")  # NER reads the bio graph
    need_prepared(prepared, (f"{graph}.db", f"emb-{graph}"), "fusion_speed", args.quick, graph)
    if args.task in ("pubmedqa", "fpb"):
        sequence_main(args, prepared)
        return

    import torch

    from nlp.formats import load_labelled
    from nlp.ner.train_transformer import bio_labels

    torch.set_num_threads(args.threads)
    n_docs = args.docs or (30 if args.quick else 200)
    test = load_labelled(dataset("CDR_TestSet.PubTator.txt"), "pubtator")[:n_docs]
    warm = [d.doc.text for d in load_labelled(dataset("CDR_DevelopmentSet.PubTator.txt"), "pubtator")[:16]]
    texts = [d.doc.text for d in test]
    variants = [v for v in args.variants.split(",") if v]
    t0 = time.perf_counter()
    models = build_variants(prepared, bio_labels(test), variants, fact_share=args.fact_share,
                            entity_vectors=args.entity_vectors)
    build_s = time.perf_counter() - t0
    for name in variants:  # warm-up on other texts: kernels, allocator, tokenizer
        models[name].predict(warm)
    times: dict[str, list[float]] = {v: [] for v in variants}
    load_before = os.getloadavg()
    preds: dict[str, list] = {}
    for r in range(args.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        for name in order:
            clear_caches(models[name])
            t = time.perf_counter()
            preds[name] = models[name].predict(texts)
            times[name].append(time.perf_counter() - t)
            print(f"round {r + 1} {name:10s} {len(texts) / times[name][-1]:7.1f} docs/s", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    best = {v: min(ts) for v, ts in times.items()}
    per_s = {v: round(len(texts) / best[v], 2) for v in variants}
    ratio = {v: round(best[v] / best["none"], 3) for v in variants} if "none" in best else {}
    per_round = {v: [round(t / n, 3) for t, n in zip(times[v], times["none"])] for v in variants} if ratio else {}
    sizes = {v: knowledge_sizes(models[v], texts) for v in variants}
    result = {"docs": len(texts), "threads": args.threads, "rounds": args.rounds, "fact_share": args.fact_share,
              "entity_vectors": args.entity_vectors,
              "docs_per_s": per_s,
              "ratio_vs_none": ratio, "ratio_vs_none_per_round": per_round,
              "seconds": {v: [round(t, 3) for t in ts] for v, ts in times.items()},
              "goal_1_3x": {v: ratio[v] <= 1.3 for v in ratio if v != "none"},
              "knowledge": sizes, "load_avg_before": [round(x, 2) for x in load_before],
              "load_avg_after": [round(x, 2) for x in load_after], "build_seconds": round(build_s, 1),
              "mentions_predicted": {v: sum(len(p) for p in preds[v]) for v in variants},
              "torch": torch.__version__}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
