"""Choose the fast profile's spaCy CNN size on BC5CDR dev, then train the chosen size on train+dev.

    python benchmarks/cnn_grid.py            # the grid below, then the final model
    python benchmarks/cnn_grid.py --quick    # 2 sizes, 60 train / 40 dev abstracts, 3 epochs (wiring check)

Selection (fixed before any run, test never looked at): every size trains on the BC5CDR training set with early
stopping on the development set (up to 20 epochs, patience 3). Speed is the spaCy pass (tokenizer, CNN NER,
sentencizer) over the 500 dev abstracts, one thread, all sizes timed side by side in alternating rounds
(median of 3). The chosen size is the fastest one whose dev F1 is within ``TOLERANCE`` of the best dev F1.
It is then trained on train+dev for its best dev epoch count (no early stopping: no data left) and written to
``benchmarks/.models/bc5cdr-spacy-<W>x<D>``; its test F1 is printed for information (the choice is made before).
The last line is one JSON object (its "test": the final model's scores as `kgnlp eval ner --model-only --json`
writes them; ``{"micro", "by_label"}`` until 2026-12-02).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.extraction_train import MODELS, split  # noqa: E402

SIZES = [(96, 4), (96, 2), (64, 4), (64, 2), (48, 2)]  # (width, depth); (96, 4) is spaCy's default
TOLERANCE = 0.01  # dev F1 (absolute) the chosen size may give up against the best


def pipe_speed(model_dir: Path, texts: list[str], threads: int = 1) -> float:
    import torch

    from nlp.ner import load_ner_model

    torch.set_num_threads(threads)
    nlp = load_ner_model(model_dir).sentence_pipeline()
    list(nlp.pipe(texts[:20]))  # warm-up
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    from nlp.evaluation import score_layer
    from nlp.ner import TrainConfig, load_ner_model, train_ner

    train, dev, test = split("bc5cdr", "train"), split("bc5cdr", "dev"), split("bc5cdr", "test")
    sizes, epochs, patience = SIZES, 20, 3
    if a.quick:
        sizes, epochs, patience = SIZES[:1] + SIZES[3:4], 3, 1
        train, dev, test = train[:60], dev[:40], test[:40]
    work = MODELS / ("cnn-grid-quick" if a.quick else "cnn-grid")
    rows = {}
    for width, depth in sizes:
        name = f"{width}x{depth}"
        cfg = TrainConfig(kind="spacy", epochs=epochs, batch_size=8, patience=patience, threads=2,
                          cnn_width=width, cnn_depth=depth)
        report = train_ner(train, work / name, cfg, dev_docs=dev)
        rows[name] = {"width": width, "depth": depth, "best_epoch": report.best_epoch,
                      "epochs_run": report.epochs_run, "train_s": report.seconds,
                      "dev_f1": max(h["dev_f1"] for h in report.history),
                      "dev_f1_by_epoch": [h["dev_f1"] for h in report.history]}
        print(json.dumps({name: rows[name]}), flush=True)
    texts = [d.doc.text for d in dev]
    speeds: dict[str, list[float]] = {n: [] for n in rows}
    for rnd in range(3):
        for name in (list(rows) if rnd % 2 == 0 else list(rows)[::-1]):
            speeds[name].append(round(pipe_speed(work / name, texts), 1))
    for name, s in speeds.items():
        rows[name]["dev_pipe_docs_per_s"] = statistics.median(s)
        rows[name]["dev_pipe_docs_per_s_runs"] = s
    best = max(r["dev_f1"] for r in rows.values())
    eligible = [n for n, r in rows.items() if r["dev_f1"] >= best - TOLERANCE]
    chosen = max(eligible, key=lambda n: rows[n]["dev_pipe_docs_per_s"])
    c = rows[chosen]
    final = MODELS / (f"bc5cdr-spacy-{chosen}" + ("-quick" if a.quick else ""))
    cfg = TrainConfig(kind="spacy", epochs=c["best_epoch"], batch_size=8, threads=2,
                      cnn_width=c["width"], cnn_depth=c["depth"])
    report = train_ner(train + dev, final, cfg)
    scores = score_layer(load_ner_model(final), test)
    if a.quick:  # a wiring check leaves nothing behind
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
    print(json.dumps({"benchmark": "cnn_grid", "quick": a.quick, "tolerance": TOLERANCE, "sizes": rows,
                      "chosen": chosen, "final_model": str(final), "final_epochs": c["best_epoch"],
                      "final_train_s": report.seconds, "test_f1_for_information": scores.overall.f1,
                      "test": scores.as_dict()}))


if __name__ == "__main__":
    main()
