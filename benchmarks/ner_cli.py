"""BC5CDR NER through `kgnlp train ner --fusion`: does the CLI recipe give what benchmarks/fusion.py measured?

    python benchmarks/ner_cli.py             # all 1,000 labelled abstracts, 8 epochs, seed 1: the README's recipe
    python benchmarks/ner_cli.py --quick     # 40 abstracts, 1 epoch, 40 test abstracts: the path works
    python benchmarks/ner_cli.py --fusion none

The graph is the one `benchmarks/fusion.py prepare` builds (BC5CDR training names + Hetionet, and its TransE
vectors), copied into a fresh workspace; prepare it first (`python benchmarks/fusion.py prepare --graphs bio`;
--quick prepares it itself when missing).
The model is trained by the CLI alone, as a user would: the 500 training and 500 development abstracts in one
PubTator file, no `--dev`, `--fusion both --entity-vectors all --knowledge-dropout 0.2 --epochs 8` (the setting
of README's table). It is then loaded the way `kgnlp ner --model` loads it (`FusedNER.load` with the workspace
graph) and scored on the 500 test abstracts with the fusion benchmark's scorer (exact span and type). The last
stdout line is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREPARED = ROOT / "benchmarks" / ".work" / "fusion"
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import dataset  # noqa: E402  (../shared/datasets, read in place)

RECIPES = {"both": ["--fusion", "both", "--entity-vectors", "all", "--knowledge-dropout", "0.2"],
           "none": ["--fusion", "none"]}


def kgnlp(*args: str) -> dict:
    """Runs ``kgnlp ARGS --json`` (from this checkout) and returns its JSON answer."""
    proc = subprocess.run([sys.executable, "-m", "cli.main", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True)
    if proc.returncode:
        sys.exit(f"error: kgnlp {' '.join(args[:2])} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


NEED = ("bio.db", "emb-bio/meta.json")


def workspace_from_prepared(prepared: Path, ws: Path) -> None:
    """A kgnlp workspace holding the prepared BC5CDR + Hetionet graph and its TransE vectors (``NEED``: checked by
    ``benchmarks.fusion.need_prepared``)."""
    from kg.workspace import Workspace

    w = Workspace.open(ws, create=True)
    shutil.copy(prepared / "bio.db", w.graph_path)
    shutil.copytree(prepared / "emb-bio", w.path / "embeddings" / "transe")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fusion", choices=tuple(RECIPES), default="both")
    ap.add_argument("--prepared", type=Path, default=PREPARED)
    args = ap.parse_args()
    from benchmarks.fusion import need_prepared
    from fusion.config import saved_config
    from fusion.ner import FusedNER, ner_f1
    from kg.workspace import Workspace
    from nlp.formats.pubtator import read_pubtator

    names = ("CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt")
    epochs = 1 if args.quick else args.epochs
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "ws"
        need_prepared(args.prepared, NEED, "ner_cli", args.quick)
        workspace_from_prepared(args.prepared, ws)
        test = read_pubtator(dataset("CDR_TestSet.PubTator.txt"))
        blocks = [b for n in names for b in dataset(n).read_text(encoding="utf-8").split("\n\n") if b.strip()]
        if args.quick:
            blocks, test = blocks[:40], test[:40]
        (tmp / "train.PubTator.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        trained = kgnlp("train", "ner", "--data", str(tmp / "train.PubTator.txt"), "--format", "pubtator",
                        "--epochs", str(epochs), "--seed", str(args.seed), "--out", str(tmp / "model"),
                        "-w", str(ws), "--quiet", *RECIPES[args.fusion])
        train_s = time.perf_counter() - t0
        store = Workspace.open(ws).open_store()
        try:
            saved = saved_config(tmp / "model")
            ner = FusedNER.load(saved, store)
            t0 = time.perf_counter()
            mentions = ner.predict([d.doc.text for d in test])
            infer_s = time.perf_counter() - t0
        finally:
            store.close()
    scores = ner_f1(test, [[(m.start, m.end, m.label) for m in ms] for ms in mentions])
    summary = {"benchmark": "ner_cli", "quick": args.quick, "fusion": args.fusion, "seed": args.seed,
               "epochs": epochs, "train_abstracts": len(blocks), "test_abstracts": len(test),
               "f1": round(scores["f1"], 4), "precision": round(scores["precision"], 4),
               "recall": round(scores["recall"], 4), "train_seconds": round(train_s, 1),
               "infer_docs_per_s": round(len(test) / infer_s, 2), "steps": trained["train"]["steps"],
               "fact_share": saved.fusion.fact_share, "command": "kgnlp train ner " + " ".join(
                   ["--format pubtator", f"--epochs {epochs}", f"--seed {args.seed}", *RECIPES[args.fusion]])}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
