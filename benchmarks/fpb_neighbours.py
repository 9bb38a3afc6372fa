"""Financial PhraseBank: how far the labels of retrieved training sentences go on their own (issue 6).

A question the fusion ablation left: would facts retrieved with FAISS help PhraseBank if the knowledge store held
the labelled training sentences themselves (retrieval-augmented classification)? This measures the ceiling of
that signal without training anything: each test sentence's k nearest training sentences (all-MiniLM-L6-v2, the
default sentence embedder, cosine in a FAISS flat index) vote with their labels, weighted by similarity. The split
is `benchmarks/fusion.py`'s: Sentences_50Agree, fixed 80/10/10 by seed, the whole 80 % searched, the 10 % test
scored. Also reported: how often the nearest training sentence is a near-copy (cosine > 0.9 / > 0.98).

    python benchmarks/fpb_neighbours.py            # seeds 1-8 (the seeds of the 8-seed fusion runs)
    python benchmarks/fpb_neighbours.py --quick    # seeds 1-3

The LAST stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.fusion import fpb_parts, fpb_rows  # noqa: E402  (the fusion benchmark's data and split)
from benchmarks.shared_data import dataset  # noqa: E402


def vote(sims: np.ndarray, idx: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    preds = []
    for s_row, i_row in zip(sims[:, :k], idx[:, :k]):
        votes: dict[str, float] = {}
        for s, i in zip(s_row, i_row):
            votes[labels[i]] = votes.get(labels[i], 0.0) + float(s)
        preds.append(max(votes, key=votes.get))
    return np.array(preds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="seeds 1-3 only")
    ap.add_argument("--ks", default="1,5,10,20")
    args = ap.parse_args()
    if not dataset("fpb.txt").is_file():
        sys.exit(f"Financial PhraseBank not found at {dataset('fpb.txt')}")
    import faiss
    import torch

    from fusion.evaluate import macro_f1
    from nlp.embedder import Embedder

    torch.set_num_threads(2)
    data = fpb_rows()
    texts = [t for t, _ in data]
    labels = np.array([lab for _, lab in data])
    started = time.perf_counter()
    vectors = np.ascontiguousarray(Embedder().encode(texts), dtype=np.float32)
    embed_s = time.perf_counter() - started
    ks = [int(k) for k in args.ks.split(",")]
    seeds = [1, 2, 3] if args.quick else list(range(1, 9))
    per_seed = []
    for seed in seeds:
        train, _, test = (np.array(part) for part in fpb_parts(len(data), seed))
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors[train])
        sims, idx = index.search(vectors[test], max(ks))
        train_labels = labels[train]
        gold = labels[test]
        run = {"seed": seed, "test": int(len(test)),
               "near_copy_0.9": round(float(np.mean(sims[:, 0] > 0.9)), 3),
               "near_copy_0.98": round(float(np.mean(sims[:, 0] > 0.98)), 3),
               "majority": round(float(np.mean(gold == "neutral")), 3)}
        for k in ks:
            pred = vote(sims, idx, train_labels, k)
            run[f"acc_k{k}"] = round(float(np.mean(pred == gold)), 3)
            run[f"macro_f1_k{k}"] = round(macro_f1(list(gold), list(pred)), 3)
        per_seed.append(run)
        print(json.dumps(run), file=sys.stderr)
    summary = {}
    for key in per_seed[0]:
        if key in ("seed", "test"):
            continue
        vals = [r[key] for r in per_seed]
        summary[key] = f"{np.mean(vals):.3f} ± {np.std(vals, ddof=1) if len(vals) > 1 else 0.0:.3f}"
    print(json.dumps({"benchmark": "fpb_neighbours", "quick": args.quick, "seeds": seeds,
                      "sentences": len(data), "embed_seconds": round(embed_s, 1),
                      "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
                      "mean_std": summary, "runs": per_seed}))


if __name__ == "__main__":
    main()
