"""PubMedQA through `kgnlp ask --model`: yes/no/maybe questions over a document set of 1,000 abstracts.

    python benchmarks/pubmedqa_ask.py            # train on the 500 non-test questions, test on the official 500
    python benchmarks/pubmedqa_ask.py --quick    # 40 train / 20 test, 1 epoch, 128 tokens: checks it end to end
    python benchmarks/pubmedqa_ask.py --recipe conclusions --epochs 8   # train on conclusions too (see --help)
    python benchmarks/pubmedqa_ask.py --recipe findings --epochs 8      # the graph of findings, from the CLI alone

The reader is trained with `kgnlp train qa` (plain MiniLM, --fusion none: see BENCHMARKS.md for the fused
variants; with ``--recipe findings`` the best fused setting of benchmarks/fusion.py, built with the CLI alone:
``kgnlp findings`` reads the findings of the 1,000 abstracts' results sections and of the training questions'
conclusions into a workspace, ``kgnlp embed`` trains TransE on it, and the reader is ``--fusion both --kg-readout
--train-layers 0 --retrieved 2 --retrieve-from passage --no-dev`` with the conclusions recipe; it reads the
workspace's graph and FAISS fact index when it answers), then each test question is answered the way `kgnlp ask
--model DIR` answers it without a chunk index: the 3 abstracts sharing the most words with the question are read and
the top-ranked abstract's label is the answer (until 2026-11-30 the most confident label of the three won; chosen
with ``--dev``, see BENCHMARKS.md; both are reported, and the mean of the three's probabilities). Reported:
accuracy and macro-F1 of that answer, how often the question's own abstract is among the 3 passages, and the
accuracy when the reader is given its own abstract (the standard PubMedQA reasoning-required setting).
The last stdout line is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "datasets" / "pubmedqa").resolve()
sys.path.insert(0, str(ROOT))


CONCLUSIONS = ["--class-weight", "balanced", "--long-answers", "--truncation-side", "left"]
QUICK = {"train": 40, "test": 20, "max_length": 128}  # --quick (until 2026-12-02: 100 / 100, the default 256)
RECIPES = {"plain": [], "conclusions": [*CONCLUSIONS, "--patience", "3"],
           "findings": [*CONCLUSIONS, "--fusion", "both", "--kg-readout", "--train-layers", "0", "--retrieved", "2",
                        "--retrieve-from", "passage", "--no-dev"]}


def kgnlp(*args: str) -> dict:
    """Runs ``kgnlp ARGS --json`` (from this checkout) and returns its JSON answer."""
    proc = subprocess.run([sys.executable, "-m", "cli.main", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True)
    if proc.returncode:
        sys.exit(f"error: kgnlp {' '.join(args[:2])} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13, help="`kgnlp train qa --seed` (13, its default)")
    ap.add_argument("--dev", type=int, default=0,
                    help="hold out N of the 500 non-test questions (a seeded sample), train on the rest and report "
                    "how each way of choosing among the passages answers them too: the check before a rule is "
                    "chosen on the test set's figures")
    ap.add_argument("--recipe", choices=tuple(RECIPES), default="plain",
                    help="plain: `kgnlp train qa` defaults; conclusions: --class-weight balanced --long-answers "
                    "--truncation-side left --patience 3; findings: the fusion benchmark's best PubMedQA setting "
                    "(module doc)")
    args = ap.parse_args()
    import random

    from fusion.reader import Passage, Reader

    for name in ("ori_pqal.json", "test_ground_truth.json"):
        if not (DATA / name).is_file():
            sys.exit(f"error: PubMedQA data not found: {DATA / name} (expected ../shared/datasets/pubmedqa/ next to "
                     "the repo)")
    data = json.loads((DATA / "ori_pqal.json").read_text(encoding="utf-8"))
    test_ids = list(json.loads((DATA / "test_ground_truth.json").read_text(encoding="utf-8")))
    tested = set(test_ids)
    train_ids = [k for k in data if k not in tested]
    dev_ids: list[str] = []
    if args.dev:
        dev_ids = sorted(random.Random(0).sample(train_ids, args.dev))
        held_out = set(dev_ids)
        train_ids = [k for k in train_ids if k not in held_out]
    if args.quick:  # the ground-truth file is ordered by label: sample across it
        rng = random.Random(0)
        train_ids, test_ids = rng.sample(train_ids, QUICK["train"]), rng.sample(test_ids, QUICK["test"])
    epochs = 1 if args.quick else args.epochs
    length = ["--max-length", str(QUICK["max_length"])] if args.quick else []  # full runs: train qa's default
    docs = [Passage(k, " ".join(v["CONTEXTS"])) for k, v in data.items()]
    graph: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "train.json").write_text(json.dumps({k: data[k] for k in train_ids}), encoding="utf-8")
        ws = tmp / "ws"
        if args.recipe == "findings":
            trained = set(train_ids)
            (tmp / "rest.json").write_text(json.dumps({k: v for k, v in data.items() if k not in trained}),
                                           encoding="utf-8")  # their abstracts only: no test conclusion
            t0 = time.perf_counter()
            for part in (["rest.json"], ["train.json", "--long-answers"]):
                graph[part[0]] = kgnlp("findings", str(tmp / part[0]), *part[1:],
                                       "--cues", str(ROOT / "data" / "findings"), "-w", str(ws))
            graph["embed"] = kgnlp("embed", "--model", "transe", "--dim", "32", "--epochs", "60", "--seed", "0",
                                   "--patience", "2", "-w", str(ws))
            graph["seconds"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        kgnlp("train", "qa", "--data", str(tmp / "train.json"), "--epochs", str(epochs), "--seed", str(args.seed),
              "--out", str(tmp / "reader"), "-w", str(ws), "--quiet", *length, *RECIPES[args.recipe])
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        store = retriever = None
        if args.recipe == "findings":  # the model reads the workspace's graph and FAISS fact index, as `ask` does
            from kg.workspace import Workspace
            from nlp.retrieval import Retriever

            store = Workspace.open(ws).open_store()
            retriever = Retriever.open(ws, store)
        reader = Reader.load(tmp / "reader", store, retriever)
        results = {part: answer_all(reader, data, ids, docs) for part, ids in (("test", test_ids), ("dev", dev_ids))}
        ask_s = time.perf_counter() - t0
        if store is not None:
            retriever.close()
            store.close()
    from fusion.evaluate import macro_f1  # labels in gold or predictions; PubMedQA's test set has all three

    gold, found, own_pred = results["test"]["gold"], results["test"]["found"], results["test"]["own"]
    pred, confident = results["test"]["top"], results["test"]["confident"]  # what `ask` answers: the top passage's
    n = len(gold)
    summary = {
        "benchmark": "pubmedqa_ask", "quick": args.quick, "train_questions": len(train_ids), "test_questions": n,
        "epochs": epochs, "seed": args.seed, "recipe": args.recipe, "document_set": len(docs),
        "train_seconds": round(train_s, 1),
        "answer_seconds": round(ask_s, 1),
        "ask_accuracy": accuracy(gold, pred), "ask_macro_f1": round(macro_f1(gold, pred), 4),
        "most_confident_accuracy": accuracy(gold, confident),
        "most_confident_macro_f1": round(macro_f1(gold, confident), 4),
        "own_abstract_in_top3": round(found / n, 4),
        "own_abstract_accuracy": accuracy(gold, own_pred),
        "own_abstract_macro_f1": round(macro_f1(gold, own_pred), 4),
        "majority_class_accuracy": round(Counter(gold).most_common(1)[0][1] / n, 4),
        "mean_of_passages_accuracy": accuracy(gold, results["test"]["mean"]),
        "mean_of_passages_macro_f1": round(macro_f1(gold, results["test"]["mean"]), 4),
        "predicted": dict(Counter(pred)), "own_abstract_predicted": dict(Counter(own_pred)), "graph": graph,
    }
    if dev_ids:
        dev = results["dev"]
        summary["dev"] = {"questions": len(dev_ids), "own_abstract_in_top3": round(dev["found"] / len(dev_ids), 4),
                          **{f"{rule}_accuracy": accuracy(dev["gold"], dev[rule]) for rule in RULES},
                          **{f"{rule}_macro_f1": round(macro_f1(dev["gold"], dev[rule]), 4) for rule in RULES},
                          "majority_class_accuracy": round(Counter(dev["gold"]).most_common(1)[0][1] / len(dev_ids), 4)}
    print(json.dumps(summary))


RULES = ("confident", "top", "mean", "own")  # own: the question's own abstract (not a rule: the reading setting)


def accuracy(gold: list[str], pred: list[str]) -> float:
    return round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 4)


def answer_all(reader, data: dict, ids: list[str], docs: list) -> dict:
    """Each question answered from the 3 passages sharing the most words with it, by each rule: ``confident``
    (the most confident passage's label, what `kgnlp ask` did until 2026-11-30), ``top`` (the top-ranked passage's
    label, what it does since), ``mean`` (the label with the highest probability averaged over the passages); and
    ``own`` (given its own abstract)."""
    from fusion.reader import Passage, rank_passages

    out: dict = {"gold": [], "found": 0, **{rule: [] for rule in RULES}}
    for k in ids:
        q = data[k]["QUESTION"]
        passages = rank_passages(q, docs, k=3)
        out["found"] += any(p.doc_id == k for p in passages)
        answers = reader.read(q, passages)
        out["confident"].append(max(answers, key=lambda a: a.score).text if answers else "yes")
        out["top"].append(answers[0].text if answers else "yes")  # Reader.read keeps the passages' order
        mean = Counter()
        for a in answers:
            mean.update(a.scores)
        out["mean"].append(max(mean, key=mean.get) if mean else "yes")
        out["own"].append(reader.read(q, [Passage(k, " ".join(data[k]["CONTEXTS"]))])[0].text)
        out["gold"].append(data[k]["final_decision"])
    return out


if __name__ == "__main__":
    main()
