"""Train the transformer NER models on a GPU, choosing the number of epochs on dev (issue 3).

    python benchmarks/extraction_gpu.py train --corpora bc5cdr,ncbi,finer --epochs 4,8,16 --work /tmp/gpu-ner
    python benchmarks/extraction_gpu.py pack --work /tmp/gpu-ner --corpus bc5cdr --out OUTDIR   # fp16, in parts
    python benchmarks/extraction_gpu.py unpack --src OUTDIR --dest benchmarks/.models/bc5cdr-transformer-gpu

Protocol, per corpus and per candidate epoch count E (all runs at once, one process each, sharing the GPU):
(a) train on the training split only, score the model alone on dev;
(b) train on train + dev (the benchmark's protocol for the final models).
The E whose (a) model is best on dev is chosen (ties: fewer epochs), and that E's (b) model is kept. Test F1 of
each (b) model alone is printed for information; the figures reported in BENCHMARKS.md come from
benchmarks/extraction.py on the CPU with the unpacked model. ``pack``/``unpack`` exist because the device
machine returns at most 16 MiB per file: weights travel as fp16 parts and are cast back to fp32 on arrival.

Reads the datasets from ``KGNLP_DATASETS`` (default ../shared/datasets). Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART = 15 * 1024 * 1024
META = ("config.json", "kgnlp_ner.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "vocab.txt", "eval-test.json")


def train(args) -> dict:
    work = Path(args.work)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    epochs = [int(e) for e in args.epochs.split(",")]
    batch = {k: int(v) for k, v in (kv.split("=") for kv in args.batch.split(","))} if args.batch else {}
    jobs = []
    for corpus in args.corpora.split(","):
        for e in epochs:
            for mode in ("select", "final"):
                name = f"{corpus}-e{e}-{mode}"
                cmd = [sys.executable, str(ROOT / "benchmarks" / "extraction_train.py"), corpus, "transformer",
                       "--epochs", str(e), "--device", args.device, "--threads", str(args.threads),
                       "--name", name, "--eval", "dev" if mode == "select" else "test"]
                cmd += ["--no-dev"] if mode == "select" else []
                cmd += ["--encoder", args.encoder] if args.encoder else []
                cmd += ["--batch-size", str(batch[corpus])] if corpus in batch else []
                cmd += ["--max-steps", str(args.max_steps), "--limit", "40", "--eval-limit", "20"] if args.max_steps else []
                jobs.append((corpus, e, mode, name, cmd))
    env = {**os.environ, "KGNLP_MODELS": str(work), "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.time()
    procs = []
    for corpus, e, mode, name, cmd in jobs:
        log = open(work / "logs" / f"{name}.log", "w")
        procs.append((corpus, e, mode, name, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                                              cwd=ROOT)))
    runs = []
    for corpus, e, mode, name, p in procs:
        try:
            rc = p.wait(timeout=max(1.0, started + args.deadline - time.time()) if args.deadline else None)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        split = "dev" if mode == "select" else "test"
        res = work / name / f"eval-{split}.json"
        row = {"corpus": corpus, "epochs": e, "mode": mode, "rc": rc}
        if rc == 0 and res.exists():
            r = json.loads(res.read_text())
            row.update(f1=r["f1"], precision=r["precision"], recall=r["recall"], seconds=r["seconds"], on=split)
        else:
            row["log_tail"] = (work / "logs" / f"{name}.log").read_text()[-1500:]
        runs.append(row)
        print(json.dumps(row), flush=True)
    chosen = {}
    for corpus in args.corpora.split(","):
        sel = [r for r in runs if r["corpus"] == corpus and r["mode"] == "select" and "f1" in r]
        if not sel:
            continue
        best = max(sel, key=lambda r: (r["f1"], -r["epochs"]))
        fin = next((r for r in runs if r["corpus"] == corpus and r["mode"] == "final" and r["epochs"] == best["epochs"]
                    and "f1" in r), None)
        if fin:
            chosen[corpus] = {"epochs": best["epochs"], "dev_f1_train_only": best["f1"], "test_f1_alone": fin["f1"],
                              "model": f"{corpus}-e{best['epochs']}-final"}
    summary = {"wall_seconds": round(time.time() - started, 1), "device": args.device, "epochs": epochs,
               "batch": batch, "runs": runs, "chosen": chosen, "gpu": _gpu_name()}
    (work / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def _gpu_name() -> str:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except Exception as exc:  # noqa: BLE001 - informational only
        return f"unknown ({exc})"


def pack(args) -> dict:
    """The chosen (or named) model dir as fp16 weight parts + one tar of the small files, into ``--out``."""
    from safetensors.torch import load_file, save_file

    work, out = Path(args.work), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = args.model or json.loads((work / "summary.json").read_text())["chosen"][args.corpus]["model"]
    src = work / name
    tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(str(src / "model.safetensors")).items()}
    blob = out / "weights.fp16.tmp"
    save_file(tensors, str(blob))
    data = blob.read_bytes()
    blob.unlink()
    parts = []
    for i in range(0, len(data), PART):
        part = out / f"{name}.fp16.part{i // PART}"
        part.write_bytes(data[i:i + PART])
        parts.append(part.name)
    with tarfile.open(out / f"{name}.meta.tar", "w") as tar:
        for f in META:
            if (src / f).exists():
                tar.add(src / f, arcname=f)
    if (work / "summary.json").exists():
        shutil.copy(work / "summary.json", out / "summary.json")
    return {"packed": name, "parts": parts, "bytes": len(data)}


def unpack(args) -> dict:
    """Join the parts, cast the weights back to fp32 and write a normal model dir at ``--dest``."""
    from safetensors.torch import load, save_file

    src, dest = Path(args.src), Path(args.dest)
    metas = sorted(src.glob("*.meta.tar"))
    if args.model:
        metas = [m for m in metas if m.name == f"{args.model}.meta.tar"]
    if len(metas) != 1:
        raise SystemExit(f"expected one *.meta.tar in {src} (use --model), found {[m.name for m in metas]}")
    name = metas[0].name[: -len(".meta.tar")]
    parts = sorted(src.glob(f"{name}.fp16.part*"), key=lambda p: int(p.name.rsplit("part", 1)[1]))
    tensors = load(b"".join(p.read_bytes() for p in parts))
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}, str(tmp / "model.safetensors"),
              metadata={"format": "pt"})
    with tarfile.open(metas[0]) as tar:
        tar.extractall(tmp, filter="data")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return {"unpacked": name, "dest": str(dest), "tensors": len(tensors)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--corpora", default="bc5cdr,ncbi,finer")
    t.add_argument("--epochs", default="4,8,16", help="candidate epoch counts, chosen on dev")
    t.add_argument("--batch", default="", help="per-corpus batch size, e.g. ncbi=32,finer=32 (default 16)")
    t.add_argument("--device", default="cuda")
    t.add_argument("--threads", type=int, default=1, help="torch CPU threads per run")
    t.add_argument("--encoder", default="")
    t.add_argument("--work", default="/tmp/gpu-ner")
    t.add_argument("--max-steps", type=int, default=0, help="smoke runs only (also 40 training docs, 20 eval docs)")
    t.add_argument("--deadline", type=float, default=0, help="kill runs still going after this many seconds")
    p = sub.add_parser("pack")
    p.add_argument("--work", default="/tmp/gpu-ner")
    p.add_argument("--corpus", default="")
    p.add_argument("--model", default="", help="a run name instead of the corpus's chosen model")
    p.add_argument("--out", required=True)
    u = sub.add_parser("unpack")
    u.add_argument("--src", required=True)
    u.add_argument("--dest", required=True)
    u.add_argument("--model", default="")
    a = ap.parse_args()
    print(json.dumps({"train": train, "pack": pack, "unpack": unpack}[a.cmd](a)))


if __name__ == "__main__":
    main()
