"""Retrieval benchmark (issue 5): embedding throughput, index build time, top-10 latency and the
recall of approximate indexes against exact search, over verbalised Hetionet facts.

    python benchmarks/retrieval.py            # 10k and 100k facts
    python benchmarks/retrieval.py --quick    # 2k and 10k facts, fewer queries

Embeddings of the fact sentences are cached (default: $TMPDIR/kgnlp-bench-cache) so a rerun skips
the slow part; the run reports whether they were computed now. Latencies are per single query
(k=10, one FAISS thread) after the query is embedded. The LAST stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hetionet_data  # noqa: E402


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 4)


def embed_all(embedder, texts: list[str], cache: Path) -> tuple[np.ndarray, dict]:
    key = hashlib.blake2b(("\n".join(texts) + embedder.name).encode(), digest_size=10).hexdigest()
    path = cache / f"facts-{len(texts)}-{key}.npy"
    if path.exists():
        log(f"embeddings from cache {path}")
        return np.load(path, allow_pickle=False), {"computed_now": False, "cache": str(path)}
    log(f"embedding {len(texts)} fact sentences (slow on this CPU)")
    t = time.perf_counter()
    parts = []
    for start in range(0, len(texts), 4096):
        parts.append(embedder.encode(texts[start : start + 4096]))
        log(f"  {start + len(parts[-1])}/{len(texts)} ({(start + len(parts[-1])) / (time.perf_counter() - t):.0f}/s)")
    vecs = np.vstack(parts)
    seconds = time.perf_counter() - t
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs, allow_pickle=False)
    return vecs, {"computed_now": True, "seconds": round(seconds, 1), "sentences_per_s": round(len(texts) / seconds, 1)}


def throughput(embedder, texts: list[str]) -> dict:
    import torch

    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        embedder.encode(texts[:64])
        t = time.perf_counter()
        embedder.encode(texts)
        out[f"threads_{threads}"] = round(len(texts) / (time.perf_counter() - t), 1)
    torch.set_num_threads(1)
    return out


def make_queries(het, facts: list[tuple[str, str, str]], n: int, seed: int) -> list[str]:
    templates = {"CtD": "What does {h} treat?", "DaG": "Which genes are associated with {h}?",
                 "CcSE": "What side effects does {h} cause?", "GpPW": "Which pathways does {h} take part in?",
                 "DpS": "What are the symptoms of {h}?", "CbG": "Which proteins does {h} bind?",
                 "DlA": "Where in the body does {h} occur?", "GiG": "What does {h} interact with?"}
    rng = random.Random(seed)
    pool = [f for f in facts if f[1] in templates]
    return [templates[r].format(h=het.names[h]) for h, r, _ in rng.sample(pool, n)]


def timed_search(index, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, list[float]]:
    found, times = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        times.append((time.perf_counter() - t) * 1000)
        found.append(ids[0])
    return np.vstack(found), times


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return round(float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)])), 4)


def bench_size(n: int, vecs: np.ndarray, ids: np.ndarray, queries: np.ndarray) -> dict:
    from kg.index import VectorIndex, choose_type

    X, I = vecs[:n], ids[:n]
    out: dict = {"facts": n, "default_type": choose_type(n)}
    t = time.perf_counter()
    flat = VectorIndex.create(X.shape[1], "flat")
    flat.add(I, X)
    out["flat"] = {"build_s": round(time.perf_counter() - t, 3)}
    truth, times = timed_search(flat, queries)
    out["flat"].update(p50_ms=pct(times, 50), p95_ms=pct(times, 95), recall_at_10=1.0)
    log(f"{n}: flat p50 {out['flat']['p50_ms']} ms")
    t = time.perf_counter()
    ivf = VectorIndex.create(X.shape[1], "ivf", train=X)
    ivf.add(I, X)
    out["ivf"] = {"build_s": round(time.perf_counter() - t, 3), "nlist": int(ivf.index.nlist), "by_nprobe": {}}
    for nprobe in (8, 16, 32, 64, 128):
        ivf.set_search_effort(nprobe)
        found, times = timed_search(ivf, queries)
        out["ivf"]["by_nprobe"][nprobe] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95),
                                           "recall_at_10": recall(found, truth)}
    log(f"{n}: ivf {out['ivf']}")
    t = time.perf_counter()
    hnsw = VectorIndex.create(X.shape[1], "hnsw")
    hnsw.add(I, X)
    out["hnsw"] = {"build_s": round(time.perf_counter() - t, 3), "M": 32, "by_ef_search": {}}
    for ef in (16, 32, 64, 128):
        hnsw.set_search_effort(ef)
        found, times = timed_search(hnsw, queries)
        out["hnsw"]["by_ef_search"][ef] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95),
                                           "recall_at_10": recall(found, truth)}
    log(f"{n}: hnsw {out['hnsw']}")
    return out


class TableEncoder:
    """Serves vectors computed above, so the synced-index timings below exclude the embedding."""

    def __init__(self, texts: list[str], vecs: np.ndarray) -> None:
        self.rows = {t: i for i, t in enumerate(texts)}
        self.vecs, self.dim, self.name = vecs, vecs.shape[1], "table"

    def encode(self, texts):
        return self.vecs[[self.rows[t] for t in texts]]


def bench_synced(het, facts, texts, vecs, queries, n: int, tmp: Path) -> dict:
    """The real code path: SyncedIndex build, one-document update vs rebuild, search + payload latency."""
    from kg.index import IndexItem, SyncedIndex, stable_id

    def item(f, text):
        key = "\x1f".join(f)
        return IndexItem(stable_id("facts", key), "facts", key, text, f[1], (f[0], f[2]), (), f)

    enc = TableEncoder(texts, vecs)
    base = [item(f, t) for f, t in zip(facts[: n - 10], texts[: n - 10])]
    doc = [item(f, t) for f, t in zip(facts[n - 10 : n], texts[n - 10 : n])]
    idx = SyncedIndex.open(tmp / f"synced-{n}", "facts")
    t = time.perf_counter()
    first = idx.sync(base, enc, "v1")
    build = time.perf_counter() - t
    t = time.perf_counter()
    add = idx.sync(base + doc, enc, "v2")
    add_s = time.perf_counter() - t
    t = time.perf_counter()
    rem = idx.sync(base, enc, "v3")
    rem_s = time.perf_counter() - t
    t = time.perf_counter()
    idx.sync(base, enc, "v4", rebuild=True)
    rebuild_s = time.perf_counter() - t
    times = []
    for q in queries:
        t = time.perf_counter()
        hits = idx.search(q, 10)
        idx.items([i for i, _ in hits])
        times.append((time.perf_counter() - t) * 1000)
    idx.close()
    assert add.added == 10 and not add.rebuilt and rem.removed == 10 and first.total == n - 10
    return {"facts": n, "index_type": first.index_type, "build_s": round(build, 2),
            "add_one_document_10_facts_s": round(add_s, 3), "remove_it_s": round(rem_s, 3),
            "full_rebuild_s": round(rebuild_s, 2), "search_with_payload_p50_ms": pct(times, 50),
            "search_with_payload_p95_ms": pct(times, 95)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2k and 10k facts, 50 queries.")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kgnlp-bench-cache")
    args = ap.parse_args()
    import faiss
    import torch

    from nlp.embedder import Embedder

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    started = time.perf_counter()
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000)
    n_queries = 50 if args.quick else args.queries
    het = hetionet_data.load()
    facts = list(het.facts)
    random.Random(0).shuffle(facts)
    facts = facts[: max(sizes)]
    texts = [hetionet_data.verbalise(het, f) for f in facts]
    embedder = Embedder(batch_size=128)
    embedder.encode(["warm up"])
    sample = texts[:500] if args.quick else texts[:2000]
    speed = throughput(embedder, sample)
    log(f"throughput {speed}")
    vecs, embed_info = embed_all(embedder, texts, args.cache)
    questions = make_queries(het, facts[: sizes[0]], n_queries, seed=1)
    q_times = []
    for q in questions[:50]:
        t = time.perf_counter()
        embedder.encode([q])
        q_times.append((time.perf_counter() - t) * 1000)
    queries = embedder.encode(questions)
    from kg.index import stable_id

    ids = np.array([stable_id("facts", "\x1f".join(f)) for f in facts], dtype=np.int64)
    per_size = {str(n): bench_size(n, vecs, ids, queries) for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        synced = bench_synced(het, facts, texts, vecs, queries, max(sizes), Path(tmp))
    log(f"synced {synced}")
    result = {
        "benchmark": "retrieval", "quick": args.quick, "machine": f"{platform.machine()} {os.cpu_count()} CPU, no GPU",
        "date": time.strftime("%Y-%m-%d"), "embedder": embedder.name, "dim": int(vecs.shape[1]),
        "queries": len(questions), "embedding_sentences_per_s": speed, "embedding_all_facts": embed_info,
        "query_embedding_p50_ms": pct(q_times, 50), "query_embedding_p95_ms": pct(q_times, 95),
        "sizes": per_size, "synced_index": synced, "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
