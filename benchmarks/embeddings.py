"""Graph-embedding benchmark (issue 5): link prediction of held-out Compound-treats-Disease edges.

    python benchmarks/embeddings.py            # all Hetionet facts we have (107,299), 4 models
    python benchmarks/embeddings.py --quick    # compound/disease metaedges only, small dims/epochs

10% of CtD edges are held out for test and another 10% for validation (early stopping and choosing
the best model). Metrics are filtered (every known fact removed from the candidate list), ties count
half. The same run also times one epoch of PyKEEN against a hand-written PyTorch TransE epoch with
the same batch size and negatives, and scores a no-learning baseline (rank diseases by how many
compounds treat them in training). The LAST stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hetionet_data  # noqa: E402

QUICK_METAEDGES = {"CtD", "CpD", "DrD", "CrC", "PCiC", "DpS", "DlA"}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def split_ctd(facts: list[tuple[str, str, str]], seed: int) -> tuple[list, list, list]:
    """(train, valid, test): 10% / 10% of CtD edges held out, never one whose compound or disease
    would then be missing from training."""
    degree = Counter(e for h, _, t in facts for e in (h, t))
    ctd = [f for f in facts if f[1] == "CtD"]
    random.Random(seed).shuffle(ctd)
    n = round(0.1 * len(ctd))
    held: list[list] = [[], []]
    for f in ctd:
        for part in held:
            if len(part) < n and degree[f[0]] > 1 and degree[f[2]] > 1:
                part.append(f)
                degree.subtract((f[0], f[2]))
                break
    out = {*held[0], *held[1]}
    return [f for f in facts if f not in out], held[1], held[0]


def degree_baseline(train, test, known) -> dict:
    """Rank every entity by how often it is a CtD tail in training; filtered like the models."""
    from kg.embeddings.evaluate import metrics_from_ranks

    pop = Counter(t for _, r, t in train if r == "CtD")
    true_tails: dict[str, set] = {}
    for h, r, t in known:
        if r == "CtD":
            true_tails.setdefault(h, set()).add(t)
    ranks = []
    for h, _, t in test:
        own = pop.get(t, 0)
        others = [c for e, c in pop.items() if e not in true_tails[h]]
        n_zero = len({e for f in known for e in (f[0], f[2])}) - len(pop)  # entities never a CtD tail
        greater = sum(c > own for c in others)
        equal = sum(c == own for c in others) + (n_zero if own == 0 else 0)
        ranks.append(1 + greater + 0.5 * equal)
    return metrics_from_ranks(np.array(ranks, dtype=float), "tail").as_dict()


def epoch_timing(train, config) -> dict:
    """Seconds for one epoch: PyKEEN's loop vs a hand-written PyTorch TransE loop (same batch, negatives)."""
    import torch

    from kg.embeddings import TrainConfig, train_embeddings

    cfg = TrainConfig(**{**config, "model": "transe", "epochs": 3, "eval_every": 3, "validation_fraction": 0.0})
    stamps: list[float] = []
    train_embeddings(train, cfg, validation=[], progress=lambda e: stamps.append(time.perf_counter()))
    pykeen_s = (stamps[-1] - stamps[0]) / 2  # epochs 2 and 3: setup and imports excluded
    ents = sorted({e for h, _, t2 in train for e in (h, t2)})
    rels = sorted({r for _, r, _ in train})
    ei, ri = {e: i for i, e in enumerate(ents)}, {r: i for i, r in enumerate(rels)}
    T = torch.tensor([(ei[h], ri[r], ei[t2]) for h, r, t2 in train])
    torch.manual_seed(0)
    E, R = torch.nn.Embedding(len(ents), cfg.dim), torch.nn.Embedding(len(rels), cfg.dim)
    opt = torch.optim.Adam([*E.parameters(), *R.parameters()], lr=cfg.checked().learning_rate)

    def score(x):
        return -torch.linalg.vector_norm(E(x[:, 0]) + R(x[:, 1]) - E(x[:, 2]), dim=-1)

    t = time.perf_counter()
    for _ in range(2):  # the same work per epoch as PyKEEN's basic sampler and margin loss
        perm = torch.randperm(len(T))
        for b in range(0, len(T), cfg.batch_size):
            x = T[perm[b : b + cfg.batch_size]]
            neg = x.repeat(cfg.negatives, 1)
            corrupt = torch.randint(0, len(ents), (len(neg),))
            side = torch.rand(len(neg)) < 0.5
            neg[side, 0], neg[~side, 2] = corrupt[side], corrupt[~side]
            loss = torch.relu(1.0 - score(x).repeat(cfg.negatives) + score(neg)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                E.weight.data = torch.nn.functional.normalize(E.weight.data, dim=-1)
    raw_s = (time.perf_counter() - t) / 2
    return {"pykeen_transe_s_per_epoch": round(pykeen_s, 2), "hand_written_transe_s_per_epoch": round(raw_s, 2),
            "ratio": round(pykeen_s / raw_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--models", default="transe,distmult,complex,rotate")
    ap.add_argument("--dim", type=int, default=None, help="default 64 (quick: 32)")
    ap.add_argument("--epochs", type=int, default=None, help="most epochs per model; default 40 (quick: 10)")
    ap.add_argument("--minutes-per-model", type=float, default=3.0,
                    help="training time budget per model (checked at each validation); keeps the full run ~15 min")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is faster on this shared 2-core box)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import torch

    from kg.embeddings import TrainConfig, evaluate_link_prediction, train_embeddings

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    het = hetionet_data.load()
    facts = het.facts
    if args.quick:
        facts = [f for f in facts if f[1] in QUICK_METAEDGES]
    train, valid, test = split_ctd(facts, args.seed)
    log(f"{len(facts)} facts; CtD held out: {len(test)} test, {len(valid)} validation")
    config = {"dim": args.dim or (32 if args.quick else 64), "epochs": args.epochs or (10 if args.quick else 40),
              "batch_size": 4096, "negatives": 8, "eval_every": 2 if args.quick else 5,
              "patience": 2, "seed": args.seed, "threads": args.threads}
    timing = epoch_timing(train, {k: v for k, v in config.items() if k != "epochs"})
    log(f"epoch timing {timing}")
    results = {}
    for model in args.models.split(","):
        log(f"training {model}")
        cfg = TrainConfig(model=model, max_seconds=args.minutes_per_model * 60, **config)
        res = train_embeddings(train, cfg, validation=valid, test=test,
                               progress=lambda e: log(f"  epoch {e.epoch} loss {e.loss:.4f} valid MRR {e.valid_mrr}")
                               if e.valid_mrr is not None else None)
        emb = res.embeddings
        results[model] = {
            "valid_mrr": round(emb.meta.valid_mrr or 0.0, 4),
            "test_tail": {k: round(v, 4) if isinstance(v, float) else v
                          for k, v in evaluate_link_prediction(emb, test, facts, side="tail").as_dict().items()},
            "test_both": {k: round(v, 4) if isinstance(v, float) else v
                          for k, v in evaluate_link_prediction(emb, test, facts).as_dict().items()},
            "train_seconds": emb.meta.seconds, "epochs_run": emb.meta.epochs_run, "best_epoch": emb.meta.best_epoch,
            "stopped_early": res.stopped_early, "learning_rate": cfg.checked().learning_rate,
        }
        log(f"{model}: {results[model]}")
    best = max(results, key=lambda m: results[m]["valid_mrr"])
    result = {
        "benchmark": "embeddings", "quick": args.quick, "machine": f"{platform.machine()} {os.cpu_count()} CPU, no GPU",
        "date": time.strftime("%Y-%m-%d"), "library": "pykeen", "facts": len(facts), "train_facts": len(train),
        "entities": len({e for h, _, t in facts for e in (h, t)}), "test_ctd": len(test), "valid_ctd": len(valid),
        "config": {**config, "minutes_per_model": args.minutes_per_model}, "models": results, "best_by_validation": best,
        "baseline_tail_by_ctd_degree": degree_baseline(train, test, facts), "epoch_timing": timing,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
