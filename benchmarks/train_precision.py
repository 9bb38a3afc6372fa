"""Training in fp32 vs bf16 mixed precision on the CPU, side by side: time and quality (``--precision``).

    python benchmarks/train_precision.py           # BC5CDR train (500 abstracts), 2 epochs each; fused NER quick set
    python benchmarks/train_precision.py --quick   # 40 abstracts, 1 epoch; fused NER on 16 abstracts (wiring check)

Two trainers, each run once per precision in the same process, fp32 first then bf16 (same data, seed, threads):
A. the transformer NER trainer (``kgnlp train ner --kind transformer``): MiniLM on BC5CDR train, a fixed number of
   epochs, scored on the BC5CDR dev abstracts (train-only model: dev is a fair score);
B. the fused trainer (``kgnlp train ner --fusion embeddings``): the fusion benchmark's quick NER configuration
   (120 training abstracts sampled with seed 1, 40 dev for early stopping, 3 epochs, first 100 test abstracts),
   which needs the prepared graph (``python benchmarks/fusion.py prepare``); skipped with a note when missing.
bf16 means autocast: matrix products in bfloat16, weights, optimiser state, layer norms and softmax in fp32.
It only helps on CPUs with native bf16 (AMX or AVX512-BF16); the JSON says whether this CPU has it.
Last stdout line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import dataset  # noqa: E402  (../shared/datasets, read in place)

PRECISIONS = ("fp32", "bf16")


def ner_trainer(train, dev, epochs: int, threads: int, work: Path, quick: bool) -> dict:
    from nlp.ner import TrainConfig, load_ner_model, train_ner
    from nlp.evaluation import score_layer

    out = {}
    for precision in PRECISIONS:
        cfg = TrainConfig(kind="transformer", epochs=epochs, batch_size=16, max_length=128 if quick else 256,
                          stride=32, threads=threads, device="cpu", precision=precision,
                          max_steps=4 if quick else 0)
        steps = []
        report = train_ner(train, work / f"ner-{precision}", cfg, progress=lambda p: steps.append(p.step))
        t0 = time.perf_counter()
        scores = score_layer(load_ner_model(work / f"ner-{precision}", precision="fp32"), dev)
        out[precision] = {"train_seconds": report.seconds, "steps": max(steps or [0]),
                          "seconds_per_step": round(report.seconds / max(1, max(steps or [0])), 3),
                          "dev": asdict(scores.overall), "dev_eval_seconds": round(time.perf_counter() - t0, 1)}
        print(f"[ner {precision}] {out[precision]}", file=sys.stderr, flush=True)
    return out


def fused_trainer(prepared: Path, threads: int, work: Path, quick: bool) -> dict:
    from benchmarks.fusion import run_ner
    from fusion.context import NameLinker
    from fusion.examples import Knowledge
    from fusion.train import TrainSettings
    from kg.embeddings import KGEmbeddings
    from kg.stores.sqlite import SQLiteStore
    from nlp.formats.pubtator import read_pubtator
    from nlp.models import encoder_path

    if not (prepared / "prepared.json").exists():
        return {"skipped": f"no prepared graph at {prepared} (run: python benchmarks/fusion.py prepare)"}
    store = SQLiteStore.open(prepared / "bio.db", create=False)
    knowledge = Knowledge(store=store, linker=NameLinker.from_store(store),
                          embeddings=KGEmbeddings.load(prepared / "emb-bio"), facts_per_entity=2)
    train = random.Random(1).sample(read_pubtator(dataset("CDR_TrainingSet.PubTator.txt")), 16 if quick else 120)
    dev = read_pubtator(dataset("CDR_DevelopmentSet.PubTator.txt"))[:8 if quick else 40]
    test = read_pubtator(dataset("CDR_TestSet.PubTator.txt"))[:8 if quick else 100]
    out = {}
    for precision in PRECISIONS:
        settings = TrainSettings(epochs=1 if quick else 3, batch_size=16, learning_rate=5e-5, seed=1, patience=2,
                                 threads=threads, precision=precision)
        res = run_ner((train, dev, test), str(encoder_path(None)), "embeddings", knowledge, settings, 128,
                      work / f"fused-{precision}")
        out[precision] = {k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}
        print(f"[fused {precision}] {out[precision]}", file=sys.stderr, flush=True)
    return out


def ratios(part: dict, key: str) -> float | None:
    if "fp32" not in part or "bf16" not in part:
        return None
    return round(part["fp32"][key] / part["bf16"][key], 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny subsets: checks the script end to end")
    ap.add_argument("--epochs", type=int, default=2, help="epochs for part A (default 2)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prepared", default=str(ROOT / "benchmarks" / ".work" / "fusion"))
    a = ap.parse_args()
    import torch

    from benchmarks.extraction_train import split
    from nlp.models import matmul_precision

    torch.set_num_threads(a.threads)
    n = 40 if a.quick else None
    train, dev = split("bc5cdr", "train")[:n], split("bc5cdr", "dev")[:n]
    work = Path(tempfile.mkdtemp(prefix="train-precision-"))
    started = time.perf_counter()
    try:
        ner = ner_trainer(train, dev, 1 if a.quick else a.epochs, a.threads, work, a.quick)
        fused = fused_trainer(Path(a.prepared), a.threads, work, a.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"benchmark": "train_precision", "quick": a.quick,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": {"cpus": os.cpu_count(), "threads": a.threads,
                          "native_bf16": matmul_precision("auto") == "bf16",
                          "processor": platform.processor() or platform.machine(), "load_avg": os.getloadavg()},
              "ner_trainer": {"train_docs": len(train), "dev_docs": len(dev), "epochs": 1 if a.quick else a.epochs,
                              **ner, "speedup_bf16": ratios(ner, "train_seconds"),
                              "dev_f1_bf16_minus_fp32": round(ner["bf16"]["dev"]["f1"] - ner["fp32"]["dev"]["f1"], 4)},
              "fused_trainer": {**fused, "speedup_bf16": ratios(fused, "train_seconds")},
              "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
