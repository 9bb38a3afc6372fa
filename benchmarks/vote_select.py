"""Choose the accurate profile's merge rule on BC5CDR dev, with models that never saw dev (issue 3).

    python benchmarks/vote_select.py            # full: train-only models scored on the 500 dev abstracts
    python benchmarks/vote_select.py --quick    # 40 abstracts each, tiny models: checks the script end to end

Why: the accurate profile's weighted vote was chosen after looking at test figures (BENCHMARKS.md). This script
makes the choice again without the test set. The protocol was written here before the script first ran:

1. Layers trained on BC5CDR **train only** (500 abstracts): the transformer (MiniLM, 32 epochs: the epoch count
   chosen on dev in benchmarks/extraction_gpu.py; trained here on the CPU if missing), the spaCy CNN at the shipped
   size 48 x 2 (``cnn-grid/48x2`` from benchmarks/cnn_grid.py: trained on train, early stopping on dev), and the
   graph names of the training set's gold entities.
2. Every candidate rule below is scored on the 500 **dev** abstracts (entity-level micro F1, exact span + type).
3. The rule with the best dev F1 is chosen, but a rule other than the transformer alone must beat the transformer
   alone in at least 95 % of 1,000 bootstrap resamples of the dev abstracts (seed 0); otherwise the transformer
   alone is chosen (the simplest rule that uses the model).
4. The chosen rule is then applied to the shipped train+dev layers (benchmarks/.models/bc5cdr-transformer,
   bc5cdr-spacy, train+dev names) and scored on test. Every rule's test figure is printed for information only.

Last stdout line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from extraction import gazetteer_for, kb_from, log, model_dir, ner_row, predict_all  # noqa: E402
from extraction_train import MODELS, split, train_model  # noqa: E402

TRANSFORMER_EPOCHS = 32
CNN_SIZE = {"cnn_width": 48, "cnn_depth": 2}
RESAMPLES, SEED, MARGIN = 1000, 0, 0.95
BASELINE = "transformer alone"
# rule -> how the three layers' mentions (graph names, CNN, transformer) of one document are combined
RULES = {
    BASELINE: ("only", None),
    "weighted vote (names 1, CNN 1, transformer 2; half of the votes)": ("vote", [1, 1, 2]),
    "equal vote (2 of 3)": ("vote", [1, 1, 1]),
    "transformer over names (priority)": ("priority", ("transformer", "names")),
    "names over transformer (priority)": ("priority", ("names", "transformer")),
}


def combine(rule: str, names, cnn, transformer):
    """One document's mentions under ``rule``."""
    from nlp.extractor import merge_mentions
    from nlp.ner.vote import vote_mentions, votes_needed

    how, arg = RULES[rule]
    if how == "only":
        return list(transformer)
    if how == "vote":
        return vote_mentions([names, cnn, transformer], votes_needed(arg), arg)
    layers = {"names": names, "transformer": transformer}
    return merge_mentions([(2, layers[arg[0]]), (1, layers[arg[1]])])


def doc_counts(gold_docs, pred_docs):
    """Per document (tp, fp, fn), exact span + type, as ``nlp.evaluation.score_ner`` counts them."""
    import numpy as np

    from nlp.evaluation import score_ner

    overall = [score_ner([g], [p]).overall for g, p in zip(gold_docs, pred_docs, strict=True)]
    return np.array([[m.tp, m.fp, m.fn] for m in overall], dtype=np.int64)


def f1(counts):
    """Micro F1 of (docs, 3) counts, or one per resample of (resamples, docs, 3) counts."""
    tp, fp, fn = counts.sum(axis=-2).T
    return 2 * tp / (2 * tp + fp + fn)


def bootstrap_wins(rule_counts, base_counts, resamples: int, seed: int) -> float:
    """Share of document resamples in which the rule's micro F1 is above the baseline's."""
    import numpy as np

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(base_counts), size=(resamples, len(base_counts)))
    return float((f1(rule_counts[idx]) > f1(base_counts[idx])).mean())


def layer_predictions(paths: dict, entities, docs) -> dict:
    from nlp.ner import load_ner_model

    out = {"names": predict_all(gazetteer_for(entities), docs)}
    for key in ("cnn", "transformer"):
        t0 = time.perf_counter()
        out[key] = predict_all(load_ner_model(paths[key]), docs)
        log(f"  {key} ({paths[key].name}): {len(docs) / (time.perf_counter() - t0):.1f} docs/s")
    return out


def score_rules(preds: dict, docs) -> dict:
    gold = [d.mentions for d in docs]
    rows = {}
    for rule in RULES:
        merged = [combine(rule, preds["names"][i], preds["cnn"][i], preds["transformer"][i]) for i in range(len(docs))]
        rows[rule] = {**ner_row(gold, merged), "counts": doc_counts(gold, merged)}
    for layer in ("names", "cnn"):
        rows[f"{layer} alone (information)"] = {"micro": ner_row(gold, preds[layer])["micro"]}
    return rows


def train_only_models(quick: bool, train, dev) -> dict:
    """The train-only transformer and CNN, trained here when missing."""
    from nlp.ner import TrainConfig, train_ner

    prefix = "quick-" if quick else ""
    transformer = MODELS / f"{prefix}bc5cdr-transformer-train-e{TRANSFORMER_EPOCHS}"
    if not (transformer / "kgnlp_ner.json").exists():
        log(f"training {transformer.name} on train only (CPU)")
        train_model("bc5cdr", "transformer", 1 if quick else TRANSFORMER_EPOCHS, use_dev=False,
                    max_length=128 if quick else 256, limit=40 if quick else 0, name=transformer.name,
                    max_steps=6 if quick else 0)
    cnn = MODELS / ("cnn-grid-quick/48x2" if quick else "cnn-grid/48x2")
    if not (cnn / "kgnlp_ner.json").exists():
        log(f"training {cnn} on train only, early stopping on dev")
        cfg = TrainConfig(kind="spacy", epochs=2 if quick else 20, batch_size=8, patience=3, threads=2, **CNN_SIZE)
        train_ner(train, cnn, cfg, dev_docs=dev)
    return {"transformer": transformer, "cnn": cnn}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="40 abstracts per split, tiny models (wiring check)")
    a = ap.parse_args()
    started = time.perf_counter()
    n = 40 if a.quick else None
    train, dev, test = split("bc5cdr", "train")[:n], split("bc5cdr", "dev")[:n], split("bc5cdr", "test")[:n]

    selection = train_only_models(a.quick, train, dev)
    log("dev: train-only layers")
    dev_rows = score_rules(layer_predictions(selection, kb_from(train), dev), dev)
    base = dev_rows[BASELINE]["counts"]
    for rule in RULES:
        dev_rows[rule]["bootstrap_wins_vs_transformer"] = (
            None if rule == BASELINE else bootstrap_wins(dev_rows[rule]["counts"], base, RESAMPLES, SEED))
    best = max(RULES, key=lambda r: dev_rows[r]["micro"]["f1"])
    chosen = best if best == BASELINE or dev_rows[best]["bootstrap_wins_vs_transformer"] >= MARGIN else BASELINE

    shipped = {"transformer": model_dir("bc5cdr", "transformer", a.quick, 2),
               "cnn": model_dir("bc5cdr", "spacy", a.quick, 2)}
    log("test: shipped train+dev layers")
    test_rows = score_rules(layer_predictions(shipped, kb_from(train + split("bc5cdr", "dev")[:n]), test), test)
    for rows in (dev_rows, test_rows):
        for row in rows.values():
            row.pop("counts", None)
    result = {"benchmark": "vote_select", "quick": a.quick, "docs": {"train": len(train), "dev": len(dev),
                                                                        "test": len(test)},
              "selection_models": {k: str(v.relative_to(ROOT)) if v.is_relative_to(ROOT) else str(v)
                                   for k, v in selection.items()},
              "shipped_models": {k: str(v) for k, v in shipped.items()},
              "rule": {"best_on_dev": best, "chosen": chosen, "resamples": RESAMPLES, "margin": MARGIN},
              "dev": dev_rows, "test": test_rows,
              "chosen_test_f1": test_rows[chosen]["micro"]["f1"], "seconds": round(time.perf_counter() - started, 1),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    for split_name, rows in (("dev", dev_rows), ("test", test_rows)):
        for rule, row in rows.items():
            extra = row.get("bootstrap_wins_vs_transformer")
            print(f"{split_name:4s} {row['micro']['f1']:.4f}  {rule}" + (f"  (beats transformer in {extra:.1%})"
                                                                        if extra is not None else ""))
    print(f"chosen on dev: {chosen} -> test F1 {result['chosen_test_f1']:.4f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
