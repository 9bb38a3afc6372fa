"""Name lookup (``find_entities``) latency on a store of Hetionet's first N entities (default 20,000).

    python benchmarks/lookup.py                         # rdf and embedded, a fresh store of each in a temp folder
    python benchmarks/lookup.py --backends rdf --keep /tmp/lookup   # build once, reuse on the next run
    python benchmarks/lookup.py --backends rdf --baseline /tmp/old/kg/stores/rdf.py   # against another checkout's

    python benchmarks/lookup.py --quick                 # 2,000 entities, 5 runs a query
    python benchmarks/lookup.py --backends embedded --merges 2000 --baseline /tmp/old/kg/resolved.py
                                                        # through 2,000 entity merges (kg.resolved.ResolvedStore)

Data: ../shared/datasets/hetionet/hetionet-v1.0-nodes.tsv next to the repo, read in place (names only, no facts).
Each query runs ``--runs`` times after one warm-up; the figures are medians in milliseconds, and each query's first
result ids are printed too, so two checkouts can be compared on the same store for both speed and order.
With ``--baseline FILE`` (a store module of another checkout, e.g. a `git worktree` of an older commit), its
store class's ``find_entities`` runs on the same store, each run right after the current one's (so a busy machine
slows both alike), and must give the same ids. With ``--merges N`` the lookups go through N merges (of the entities
sorted by id, the 2i-th merged into the 2i+1-th), as every reading command sees a workspace with merges, and
``--baseline`` is then another checkout's ``kg/resolved.py``; whether it gave the same ids is reported, not required.
The last line of stdout is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
QUERIES = ("a", "e", "ca", "cancer", "compound", "CYP2D6", "metformin", "zzz")


def load_entities(n: int):
    """The first ``n`` Hetionet nodes as entities."""
    from kg.records import Entity

    from benchmarks.shared_data import dataset

    with open(dataset("hetionet-v1.0-nodes.tsv"), encoding="utf-8") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh, delimiter="\t"))]
    return [Entity(r["id"], r["name"], r["kind"]) for r in rows]


def open_store(backend: str, folder: Path, n: int):
    """The backend's store in ``folder``, filled with the first ``n`` entities unless the folder already holds a
    store (``--keep``: one built by an earlier run, whatever its size; use a new folder for another ``--entities``)."""
    from kg.store import store_class

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("rdf" if backend == "rdf" else "graph.db")
    fresh = not path.exists()
    store = store_class(backend).open(path=path)
    if fresh:
        store.add([], load_entities(n))
    return store


def baseline_lookup(module_file: str, backend_class: type):
    """``find_entities`` of the class named like ``backend_class`` in another checkout's store module (None: the
    module has no such class, e.g. an RDF module for the embedded backend)."""
    spec = importlib.util.spec_from_file_location("baseline_store", module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = getattr(module, backend_class.__name__, None)
    return cls.find_entities if cls is not None else None


def through_merges(store, n: int):
    """``store`` seen through ``n`` merges: of its entities sorted by id, the 2i-th merged into the 2i+1-th."""
    from kg.resolved import ResolvedStore

    ids = sorted(e.id for e in store.entities())
    return ResolvedStore(store, {ids[2 * i]: ids[2 * i + 1] for i in range(min(n, len(ids) // 2))})


def timed(fn, store, q: str, limit: int, runs: int, other=None) -> tuple[float, float | None]:
    """Median milliseconds of ``fn`` (and of ``other``, run right after it each time) over ``runs`` lookups."""
    mine, theirs = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(store, q, limit)
        mine.append((time.perf_counter() - t0) * 1000)
        if other is not None:
            t0 = time.perf_counter()
            other(store, q, limit)
            theirs.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(mine), 2), round(statistics.median(theirs), 2) if theirs else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="rdf,embedded")
    ap.add_argument("--entities", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--keep", help="a folder to build the stores in and reuse (default: a temp folder)")
    ap.add_argument("--baseline", help="another checkout's store module (kg/stores/rdf.py) to time alongside")
    ap.add_argument("--merges", type=int, default=0, help="look up through this many entity merges")
    ap.add_argument("--quick", action="store_true", help="2,000 entities, 5 runs a query")
    args = ap.parse_args()
    if args.quick:
        args.entities, args.runs = min(args.entities, 2000), min(args.runs, 5)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        for backend in args.backends.split(","):
            raw = open_store(backend, root / backend, args.entities)
            store = through_merges(raw, args.merges) if args.merges else raw
            fn = type(store).find_entities
            other = baseline_lookup(args.baseline, type(store)) if args.baseline else None
            figures = {}
            for q in QUERIES:
                ids = [e.id for e in fn(store, q, args.limit)]  # also the warm-up
                same = None if other is None else [e.id for e in other(store, q, args.limit)] == ids
                if same is False and not args.merges:
                    raise SystemExit(f"{backend} {q!r}: the baseline finds other entities or another order")
                ms, base_ms = timed(fn, store, q, args.limit, args.runs, other)
                figures[q] = {"median_ms": ms, "baseline_ms": base_ms, "same_ids": same, "first": ids[:3]}
                vs = f"  baseline {base_ms:8.2f} ms{'' if same else ' (other ids)'}" if base_ms is not None else ""
                print(f"{backend:9} {q!r:12} {ms:8.2f} ms{vs}  {ids[:3]}")
            raw.close()
            results[backend] = figures
    print(json.dumps({"benchmark": "lookup", "entities": args.entities, "runs": args.runs, "limit": args.limit,
                      "merges": args.merges, "baseline": args.baseline, "results": results}))


if __name__ == "__main__":
    main()
