"""Graph-store benchmark on the Hetionet subset: load rate, 1-hop/2-hop/shortest-path latency, peak RSS, cold start.

    nice -n 10 python benchmarks/stores.py            # all: embedded, rdf, rdflib-memory, neo4j (~5-10 min, 2 cores)
    nice -n 10 python benchmarks/stores.py --quick    # 3k edges and their entities, fewer queries: checks it runs
    python benchmarks/stores.py --backends embedded,rdf

Data: ../shared/datasets/hetionet/ next to the repo (nodes TSV, edges-5k.sif.gz, DaG-association.tsv), read in place.
Every backend runs in its own subprocess, so peak RSS (ru_maxrss) is that backend's alone. ``rdflib-memory`` loads the
same RDF mapping into rdflib's in-memory store, the comparison behind the rdf backend's choice of Oxigraph. The neo4j
backend starts a private ArcadeDB Bolt server (.ci/arcadedb.sh, free ports, temp root) and reports its peak RSS too.
The last line of stdout is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO.parent / "shared" / "datasets" / "hetionet").resolve()
sys.path.insert(0, str(REPO))
BACKENDS = ("embedded", "rdf", "rdflib-memory", "neo4j")
QUICK_EDGES = 3000  # --quick: a sample of the edges and only the entities they touch (until 2026-12-02: 15,000
# edges and all 47,031 entities)


def load_data(quick: bool):
    """Entities and ``(head, RELATION, tail)`` rows: edges-5k plus the complete Disease-associates-Gene set; with
    ``quick`` a seeded sample of QUICK_EDGES rows and only the entities they name."""
    from kg.records import Entity

    kinds = {}
    with open(DATA / "metaedges.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            kind = re.split(r" [->] ", row["metaedge"])[1]
            kinds[row["abbreviation"]] = re.sub(r"[^A-Za-z0-9]+", "_", kind).strip("_").upper()
    with open(DATA / "hetionet-v1.0-nodes.tsv", encoding="utf-8") as fh:
        entities = [Entity(r["id"], r["name"], r["kind"]) for r in csv.DictReader(fh, delimiter="\t")]
    rows = []
    with gzip.open(DATA / "edges-5k.sif.gz", "rt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            rows.append((r["source"], kinds[r["metaedge"]], r["target"]))
    with open(DATA / "DaG-association.tsv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            rows.append((f"Disease::{r['doid_id']}", kinds["DaG"], f"Gene::{r['entrez_gene_id']}"))
    rows = list(dict.fromkeys(rows))
    if quick:
        random.Random(7).shuffle(rows)
        rows = rows[:QUICK_EDGES]
        named = {h for h, _, _ in rows} | {t for _, _, t in rows}
        entities = [e for e in entities if e.id in named]
    return entities, rows


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 3)


def timed(fn, args_list) -> dict[str, float]:
    times = []
    for args in args_list:
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return {"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95), "n": len(times)}


def worker(backend: str, quick: bool, tmp: Path, bolt: dict | None) -> dict:
    entities, rows = load_data(quick)
    rng = random.Random(42)
    nodes = sorted({h for h, _, _ in rows} | {t for _, _, t in rows})
    one = [(n,) for n in rng.sample(nodes, 100 if quick else 300)]
    two = [(n,) for n in rng.sample(nodes, 20 if quick else 50)]
    pairs = [tuple(rng.sample(nodes, 2)) for _ in range(10 if quick else 30)]
    out: dict = {"backend": backend, "edges": len(rows), "entities": len(entities)}
    if backend == "rdflib-memory":
        return out | rdflib_memory(entities, rows, one)
    if backend == "embedded":
        from kg.workspace import Workspace

        ws = Workspace.open(tmp / "ws", create=True)
        store = ws.open_store("embedded")
    elif backend == "rdf":
        from kg.stores.rdf import RDFStore

        store = RDFStore.open(path=tmp / "rdf")
    else:
        from kg.stores.neo4j import Neo4jStore

        store = Neo4jStore.open(None, uri=bolt["uri"], user="root", password=bolt["password"], **({"batch_size": int(os.environ["KGNLP_BENCH_BATCH"])} if os.environ.get("KGNLP_BENCH_BATCH") else {}))
    t = time.perf_counter()
    store.bulk_load([], entities, source="hetionet")
    ent_s = time.perf_counter() - t
    t = time.perf_counter()
    added = store.bulk_load(rows, source="hetionet")
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    again = store.bulk_load(rows[:5000], source="hetionet")
    out |= {"entities_s": round(ent_s, 2), "entities_per_s": round(len(entities) / ent_s),
            "load_s": round(load_s, 2), "edges_per_s": round(len(rows) / load_s), "new_facts": added,
            "reload_5k_s": round(time.perf_counter() - t, 2), "reload_new_facts": again}
    out["one_hop"] = timed(store.neighbours, one)
    out["two_hop"] = timed(lambda n: store.neighbours(n, hops=2), two)
    out["two_hop_facts_median"] = int(statistics.median(len(store.neighbours(n, hops=2)) for n, in two[:10]))
    out["shortest_path"] = timed(lambda a, b: store.path(a, b, max_hops=4), pairs)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if backend == "embedded":  # `kgnlp query sparql` on the embedded store: an in-memory RDF copy per query
        from kg.stores.rdf import RDFStore

        t, cpu = time.perf_counter(), time.process_time()
        copy, facts = RDFStore.copy_of(store)
        copy_s, copy_cpu = time.perf_counter() - t, time.process_time() - cpu
        t = time.perf_counter()
        count = copy.query("SELECT (COUNT(*) AS ?n) WHERE { ?h ?r ?t }").rows[0][0]
        out |= {"sparql_copy_s": round(copy_s, 2), "sparql_copy_cpu_s": round(copy_cpu, 2), "sparql_copy_facts": facts, "sparql_copy_quads": count,
                "sparql_count_s": round(time.perf_counter() - t, 3),
                "sparql_copy_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        copy.close()
    store.close()
    return out


def rdflib_memory(entities, rows, one) -> dict:
    """The same triples as the rdf backend, in rdflib's in-memory store (everything as Python objects)."""
    from rdflib import Graph, Literal, URIRef

    from kg.records import Provenance, Triple
    from kg.stores.rdf_map import ENT, REL, entity_quads, fact_quads

    def conv(term):
        if hasattr(term, "datatype"):
            return Literal(term.value, datatype=URIRef(term.datatype.value))
        return URIRef(term.value)

    g = Graph()
    prov = (Provenance("hetionet", 0, 0, "", "import"),)
    t = time.perf_counter()
    for i in range(0, len(entities), 5000):
        g.addN((conv(q.subject), conv(q.predicate), conv(q.object), g)
               for e in entities[i : i + 5000] for q in entity_quads(e))
    ent_s = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(0, len(rows), 5000):
        g.addN((conv(q.subject), conv(q.predicate), conv(q.object), g)
               for h, r, o in rows[i : i + 5000] for q in fact_quads(Triple(h, r, o, 1.0, prov)))
    load_s = time.perf_counter() - t
    from urllib.parse import quote

    def hop(n):
        node = URIRef(ENT + quote(n, safe=""))
        return [x for x in (*g.triples((node, None, None)), *g.triples((None, None, node))) if x[1].startswith(REL)]

    res = {"entities_s": round(ent_s, 2), "load_s": round(load_s, 2), "edges_per_s": round(len(rows) / load_s), "rdf_triples": len(g),
           "one_hop": timed(hop, one)}
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(tmp: Path, runs: int = 5) -> dict:
    """Process start to output of `kgnlp query entity X` on an embedded workspace holding the data."""
    from kg.workspace import Workspace

    ws = tmp / "ws"
    if not (ws / "workspace.json").exists():
        return {"error": "no embedded workspace (run the embedded backend)"}
    store = Workspace.open(ws).open_store("embedded")
    entity = store.entity("Compound::DB00997") or next(iter(store.entities()), None)  # --quick's sample may lack it
    store.close()
    if entity is None:
        return {"error": "the embedded workspace holds no entity"}
    times = []
    cmd = [sys.executable, "-m", "cli.main", "query", "entity", entity.name, "--workspace", str(ws)]
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-300:]}
    return {"command": f"kgnlp query entity '{entity.name}'", "p50_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3), "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_EDGES:,} edges, their entities and fewer queries")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--tmp", help=argparse.SUPPRESS)
    ap.add_argument("--bolt", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.quick, Path(args.tmp), json.loads(args.bolt or "null"))))
        return
    if not DATA.is_dir():
        raise SystemExit(f"Hetionet data not found at {DATA}; expected ../shared/datasets/hetionet/ next to the repo.")
    chosen = [b.strip() for b in args.backends.split(",") if b.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="kgnlp-bench-"))
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "quick": args.quick,
                     "backends": {}}
    try:
        for backend in chosen:
            bolt, env = None, None
            if backend == "neo4j":
                env = {"KGNLP_TEST_BOLT_PORT": str(free_port()), "KGNLP_TEST_HTTP_PORT": str(free_port()),
                       "KGNLP_ARCADEDB_DIR": str(tmp / "arcadedb"), "KGNLP_TEST_BOLT_PASSWORD": "bench-password",
                       "KGNLP_ARCADEDB_HEAP": "2g", "PYTHON": os.environ.get("PYTHON") or sys.executable}
                started = subprocess.run(["bash", str(REPO / ".ci" / "arcadedb.sh"), "start"], env={**os.environ, **env},
                                         capture_output=True, text=True)
                if started.returncode != 0:
                    results["backends"][backend] = {"error": started.stderr.strip()[-300:]}
                    continue
                bolt = {"uri": f"bolt://127.0.0.1:{env['KGNLP_TEST_BOLT_PORT']}",
                        "password": env["KGNLP_TEST_BOLT_PASSWORD"]}
            print(f"[{backend}] running...", file=sys.stderr, flush=True)
            try:
                proc = subprocess.run([sys.executable, __file__, "--worker", backend, "--tmp", str(tmp),
                                       "--bolt", json.dumps(bolt), *(["--quick"] if args.quick else [])],
                                      capture_output=True, text=True)
                if proc.returncode == 0:
                    res = json.loads(proc.stdout.strip().splitlines()[-1])
                else:
                    res = {"error": proc.stderr.strip()[-400:]}
                if env is not None:
                    pid = (tmp / "arcadedb" / "server.pid").read_text().strip()
                    status = Path(f"/proc/{pid}/status").read_text()
                    hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
                    res["server_peak_rss_mb"] = round(int(hwm.group(1)) / 1024, 1) if hwm else None
            finally:
                if env is not None:
                    subprocess.run(["bash", str(REPO / ".ci" / "arcadedb.sh"), "stop"], env={**os.environ, **env},
                                   capture_output=True, text=True)
            results["backends"][backend] = res
            print(f"[{backend}] {json.dumps(res)}", file=sys.stderr, flush=True)
        if "embedded" in chosen:
            results["cold_start"] = cold_start(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
