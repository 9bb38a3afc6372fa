"""Train the NER models the extraction benchmark evaluates (reused by benchmarks/extraction.py).

    python benchmarks/extraction_train.py bc5cdr transformer --epochs 2
    python benchmarks/extraction_train.py ncbi spacy --epochs 12

Models go to benchmarks/.models/<corpus>-<kind>/ (git-ignored); each dir's kgnlp_ner.json records the
config, the training data and the time it took.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "datasets"
if not DATA.exists():
    DATA = Path("/work/shared/datasets")
MODELS = ROOT / "benchmarks" / ".models"

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
    return load_labelled({"train": train, "dev": dev, "test": test}[name], fmt)


def train_model(corpus: str, kind: str, epochs: int, use_dev: bool = True, max_length: int = 256,
                threads: int = 2, limit: int = 0, lr: float = 0.0,
                name: str = "", max_steps: int = 0, encoder: str = "") -> Path:
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
                      max_steps=max_steps, encoder=encoder,
                      batch_size=16 if kind == "transformer" else (8 if corpus == "bc5cdr" else 32))
    report = train_ner(docs, out, cfg, progress=log)
    print(f"[{corpus}-{kind}] done in {report.seconds}s -> {out}", flush=True)
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
    a = ap.parse_args()
    train_model(a.corpus, a.kind, a.epochs, not a.no_dev, a.max_length, a.threads, a.limit, a.lr, a.name,
                encoder=a.encoder)
