"""Train the NER models the extraction benchmark evaluates (reused by benchmarks/extraction.py).

    python benchmarks/extraction_train.py bc5cdr transformer --epochs 2
    python benchmarks/extraction_train.py ncbi spacy --epochs 12

Models go to benchmarks/.models/<corpus>-<kind>/ (git-ignored); each dir's kgnlp_ner.json records the
config, the training data and the time it took.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ["KGNLP_DATASETS"]) if os.environ.get("KGNLP_DATASETS") else ROOT.parent / "shared" / "datasets"
if not os.environ.get("KGNLP_DATASETS") and not DATA.exists():  # a KGNLP_DATASETS given is used as given
    DATA = Path("/work/shared/datasets")
MODELS = Path(os.environ["KGNLP_MODELS"]) if os.environ.get("KGNLP_MODELS") else ROOT / "benchmarks" / ".models"

CORPORA = {
    "bc5cdr": ("pubtator", DATA / "bc5cdr/CDR_TrainingSet.PubTator.txt",
               DATA / "bc5cdr/CDR_DevelopmentSet.PubTator.txt", DATA / "bc5cdr/CDR_TestSet.PubTator.txt"),
    "ncbi": ("iob", DATA / "biomed-ner-iob/NCBI-disease-IOB/train.tsv",
             DATA / "biomed-ner-iob/NCBI-disease-IOB/devel.tsv", DATA / "biomed-ner-iob/NCBI-disease-IOB/test.tsv"),
    "finer": ("finer-csv", DATA / "finer-ord/train.csv", DATA / "finer-ord/val.csv", DATA / "finer-ord/test.csv"),
}


def split(corpus: str, name: str):
    from nlp.formats import load_labelled

    fmt, train, dev, test = CORPORA[corpus]
    path = {"train": train, "dev": dev, "test": test}[name]
    if not path.is_file():
        raise SystemExit(f"error: {corpus} {name} data not found at {path} (expected ../shared/datasets/ next to the "
                         "repo, or KGNLP_DATASETS)")
    return load_labelled(path, fmt)


def train_model(corpus: str, kind: str, epochs: int, use_dev: bool = True, max_length: int = 256,
                threads: int = 2, limit: int = 0, lr: float = 0.0,
                name: str = "", max_steps: int = 0, encoder: str = "", device: str = "cpu",
                batch_size: int = 0, eval_on: str = "", eval_limit: int = 0, cnn_width: int = 96,
                cnn_depth: int = 4) -> Path:
    """Train on train(+dev) for a fixed number of epochs (no dev left for early stopping)."""
    from nlp.ner import TrainConfig, train_ner

    docs = split(corpus, "train") + (split(corpus, "dev") if use_dev else [])
    if limit:
        docs = docs[:limit]
    out = MODELS / (name or f"{corpus}-{kind}")
    t0 = time.time()

    def log(p):
        if p.step % 20 == 0 or p.step == p.total_steps:
            print(f"[{corpus}-{kind}] epoch {p.epoch} step {p.step}/{p.total_steps} loss {p.loss:.4f} "
                  f"{time.time() - t0:.0f}s", flush=True)

    cfg = TrainConfig(kind=kind, epochs=epochs, max_length=max_length, stride=32, threads=threads, learning_rate=lr,
                      max_steps=max_steps, encoder=encoder, device=device, cnn_width=cnn_width, cnn_depth=cnn_depth,
                      batch_size=batch_size or (16 if kind == "transformer" else (8 if corpus == "bc5cdr" else 32)))
    report = train_ner(docs, out, cfg, progress=log)
    print(f"[{corpus}-{kind}] done in {report.seconds}s -> {out}", flush=True)
    if eval_on:  # this model alone on the dev or test split, written beside it as `kgnlp eval ner --json` writes it
        from nlp.evaluation import score_layer
        from nlp.ner import load_ner_model

        layer = load_ner_model(out)
        if kind == "transformer" and device != "cpu":
            from nlp.ner.training import resolve_device

            layer.model.to(resolve_device(device))
        scores = score_layer(layer, split(corpus, eval_on)[: eval_limit or None])
        result = {"corpus": corpus, "kind": kind, "epochs": epochs, "train_docs": len(docs), "use_dev": use_dev,
                  "seconds": report.seconds, "eval_on": eval_on, **scores.as_dict()}
        (out / f"eval-{eval_on}.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result), flush=True)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", choices=sorted(CORPORA))
    ap.add_argument("kind", choices=["spacy", "transformer"])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--no-dev", action="store_true")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0.0)
    ap.add_argument("--encoder", default="", help="start from this local HF folder (e.g. a trained model: continue)")
    ap.add_argument("--name", default="", help="output dir name under benchmarks/.models (default CORPUS-KIND)")
    ap.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N (transformer only)")
    ap.add_argument("--batch-size", type=int, default=0, help="0 = 16 for transformers, 8/32 for spaCy")
    ap.add_argument("--cnn-width", type=int, default=96, help="spaCy only: tok2vec width")
    ap.add_argument("--cnn-depth", type=int, default=4, help="spaCy only: tok2vec CNN layers")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N updates (smoke runs)")
    ap.add_argument("--eval", dest="eval_on", choices=["", "dev", "test"], default="",
                    help="after training, score the model alone on this split and write eval-SPLIT.json beside it")
    ap.add_argument("--eval-limit", type=int, default=0, help="score only the first N docs (smoke runs)")
    a = ap.parse_args()
    train_model(a.corpus, a.kind, a.epochs, not a.no_dev, a.max_length, a.threads, a.limit, a.lr, a.name,
                max_steps=a.max_steps, encoder=a.encoder, device=a.device, batch_size=a.batch_size,
                eval_on=a.eval_on, eval_limit=a.eval_limit, cnn_width=a.cnn_width, cnn_depth=a.cnn_depth)
