"""Store write paths that the bulk benchmarks (stores.py) do not time: per-document ingest and re-ingest, document
removal, an edited seed (``replace_source``), ``add`` of facts already stored with their sources and an import raising
facts to confidence 1.0.

    python benchmarks/store_writes.py                   # embedded and rdf, synthetic data, ~1 min on 2 cores
    python benchmarks/store_writes.py --backends embedded --docs 500

Synthetic, so it runs anywhere: ``--docs`` documents of 8 facts each over a graph of ``--entities`` entities (with
aliases), a seed listing every entity and then one listing a third of them with other aliases, and a bulk import of
the documents' facts. Each stage is timed in seconds (perf_counter); the last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _data(n_docs: int, n_ents: int):
    from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple

    rng = random.Random(7)
    entities = [Entity(f"e:{i}", f"Entity {i}", "Thing", (f"ent{i}", f"thing {i}")) for i in range(n_ents)]
    docs = []
    for d in range(n_docs):
        doc_id = f"doc-{d}"
        triples, mentions = [], []
        for k in range(8):
            h, t = rng.sample(range(n_ents), 2)
            prov = Provenance(doc_id, k * 10, k * 10 + 9, f"sentence {k}", "pattern")
            triples.append(Triple(f"e:{h}", "RELATES_TO", f"e:{t}", 0.5 + rng.random() / 4, (prov,)))
            mentions += [Mention(k * 10, k * 10 + 4, f"ent{h}", "Thing", f"e:{h}", 0.9),
                         Mention(k * 10 + 5, k * 10 + 9, f"ent{t}", "Thing", f"e:{t}", 0.9)]
        ents = tuple({m.entity_id: entities[int(m.entity_id[2:])] for m in mentions}.values())
        docs.append(Extraction(Document(doc_id, f"text of {doc_id}", "bench"), tuple(mentions), tuple(triples), ents))
    return entities, docs


def _open(kind: str, folder: Path):
    from kg.store import store_class

    if kind == "embedded":
        return store_class(kind).open(path=folder / "graph.db", durable=False)
    return store_class(kind).open(path=folder / "rdf")


def run(kind: str, n_docs: int, n_ents: int) -> dict[str, float]:
    """Seconds per stage on a fresh store of ``kind``."""
    from dataclasses import replace

    entities, docs = _data(n_docs, n_ents)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = _open(kind, Path(tmp))

        def stage(name: str, fn) -> None:
            started = time.perf_counter()
            fn()
            out[name] = round(time.perf_counter() - started, 3)

        stage("seed", lambda: store.replace_source("seed:s", [], entities))
        stage("ingest", lambda: [store.add_extraction(x, "h1") for x in docs])
        stage("reingest", lambda: [store.add_extraction(x, "h2") for x in docs])
        # every stored fact again with its source, in one call: the path of `kgnlp migrate` and RDF-file imports
        stage("add", lambda: store.add([t for x in docs for t in x.triples]))
        kept = [replace(e, aliases=(f"other {e.id}",)) for e in entities[::3]]
        stage("seed_edit", lambda: store.replace_source("seed:s", [], kept))
        rows = [t.key for x in docs for t in x.triples]
        stage("import", lambda: store.bulk_load(rows, source="import:bench"))
        stage("remove", lambda: [store.remove_document(x.document.id) for x in docs[: n_docs // 2]])
        stage("unimport", lambda: store.replace_source("import:bench", []))
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="embedded,rdf")
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--entities", type=int, default=3000)
    ap.add_argument("--quick", action="store_true", help="50 documents, 500 entities")
    args = ap.parse_args()
    if args.quick:
        args.docs, args.entities = min(args.docs, 50), min(args.entities, 500)
    result = {k: run(k, args.docs, args.entities) for k in args.backends.split(",")}
    for kind, stages in result.items():
        print(kind, " ".join(f"{k}={v}s" for k, v in stages.items()), file=sys.stderr)
    print(json.dumps({"benchmark": "store_writes", "docs": args.docs, "entities": args.entities, "seconds": result}))


if __name__ == "__main__":
    main()
