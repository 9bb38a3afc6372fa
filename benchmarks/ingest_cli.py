"""`kgnlp ingest` end to end, store writes included: the 500 BC5CDR test abstracts, fast vs accurate.

    python benchmarks/ingest_cli.py            # 500 abstracts, 3 interleaved repeats, median
    python benchmarks/ingest_cli.py --quick    # 60 abstracts, one repeat; tiny models trained here if missing

Each run starts from a fresh workspace whose graph holds the BC5CDR train+dev entities (one per MeSH id, its
annotated surface forms as aliases: the same "graph" benchmarks/extraction.py uses) and runs the real CLI in a
subprocess, as a user would:

    kgnlp ingest test.jsonl --profile fast --model benchmarks/.models/bc5cdr-spacy
    kgnlp index --kind entities && kgnlp ingest test.jsonl --profile accurate \\
        --model benchmarks/.models/bc5cdr-transformer --model benchmarks/.models/bc5cdr-spacy

Reported per profile: the command's own `seconds` (documents read to graph committed) and docs/s from it,
the wall time of the whole process (Python start, imports and model loading included), what it added, and
the peak RSS of the largest process of the run (spaCy workers included). The accurate profile's `kgnlp index`
(embedding the graph's entity names once, needed for its similarity linking) is timed apart. Models come from
benchmarks/.models/ (train them with benchmarks/extraction_train.py / extraction_gpu.py); --quick uses the tiny
quick-bc5cdr-spacy / quick-bc5cdr-transformer that extraction.py --quick trains, and trains them when missing, so
it runs on a fresh checkout (its docs/s are not the shipped models'). Last stdout line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from extraction import kb_from  # noqa: E402
from extraction_train import MODELS, split  # noqa: E402

_RUN = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
print(json.dumps({"rc": proc.returncode, "wall": wall, "stdout": proc.stdout, "stderr": proc.stderr[-2000:],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def kgnlp(*args: str) -> dict:
    """One CLI call in a fresh wrapper process (so RUSAGE_CHILDREN covers that call and its workers only)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-c", _RUN, sys.executable, "-m", "cli.main", *args],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    res = json.loads(out.stdout)
    if res["rc"] != 0:
        raise SystemExit(f"kgnlp {' '.join(args)} failed: {res['stderr'].strip().splitlines()[-1:]}")
    res["json"] = json.loads(res["stdout"]) if res["stdout"].strip().startswith("{") else {}
    return res


def fresh_workspace(root: Path, entities) -> Path:
    from kg.workspace import Workspace

    shutil.rmtree(root, ignore_errors=True)
    ws = Workspace.open(root, create=True)
    store = ws.open_store("embedded")
    store.add([], entities)
    store.close()
    return root


def quick_models() -> dict[str, Path]:
    """--quick on a checkout without trained models: the tiny ones extraction.py --quick trains (40 abstracts;
    the transformer 6 steps), trained here once when missing. They check the path, not the accuracy."""
    from contextlib import redirect_stdout

    from extraction import model_dir

    with redirect_stdout(sys.stderr):  # training progress; stdout's last line stays the JSON
        return {"spacy": model_dir("bc5cdr", "spacy", True, 1), "transformer": model_dir("bc5cdr", "transformer",
                                                                                           True, 1)}


def run_profile(profile: str, docs_file: Path, work: Path, entities, n_docs: int, models: dict[str, Path]) -> dict:
    ws = fresh_workspace(work / f"ws-{profile}", entities)
    row: dict = {}
    if profile == "accurate":
        idx = kgnlp("index", "--kind", "entities", "-w", str(ws), "--json")
        row["index_wall_seconds"] = round(idx["wall"], 1)
        chosen = [models["transformer"], models["spacy"]]
    else:
        chosen = [models["spacy"]]
    args = ["ingest", str(docs_file), "--profile", profile, "-w", str(ws), "--json"]
    for m in chosen:
        args += ["--model", str(m)]
    res = kgnlp(*args)
    data = res["json"]
    row.update({"documents": data["documents"], "entities_added": data["entities"], "relations_added": data["relations"],
                "seconds": data["seconds"], "docs_per_s": round(n_docs / data["seconds"], 1),
                "wall_seconds": round(res["wall"], 1), "docs_per_s_wall": round(n_docs / res["wall"], 1),
                "peak_rss_mb": round(res["peak_rss_mb"]),
                "load_avg_1m_after": round(os.getloadavg()[0], 2)})
    shutil.rmtree(ws, ignore_errors=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=0, help="default 3 (1 with --quick)")
    a = ap.parse_args()
    n = 60 if a.quick else 500
    repeats = a.repeats or (1 if a.quick else 3)
    models = quick_models() if a.quick else {kind: MODELS / f"bc5cdr-{kind}" for kind in ("spacy", "transformer")}
    for path in models.values():
        if not (path / "kgnlp_ner.json").exists():
            raise SystemExit(f"benchmarks/.models/{path.name} is missing: train it first (see docs/extraction.md).")
    test = split("bc5cdr", "test")[:n]
    entities = kb_from(split("bc5cdr", "train") + split("bc5cdr", "dev"))
    work = Path(tempfile.mkdtemp(prefix="kgnlp-ingest-bench-"))
    docs_file = work / "bc5cdr-test.jsonl"
    docs_file.write_text("".join(json.dumps({"id": d.doc.id, "text": d.doc.text}) + "\n" for d in test))
    started = time.time()
    runs: dict[str, list[dict]] = {"fast": [], "accurate": []}
    try:
        for rep in range(repeats):  # interleaved: the machine is shared and noisy
            for profile in runs:
                print(f"[ingest {time.strftime('%H:%M:%S')}] {profile} run {rep + 1}", file=sys.stderr, flush=True)
                runs[profile].append(run_profile(profile, docs_file, work, entities, n, models))
                print(json.dumps({"profile": profile, **runs[profile][-1]}), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {}
    for profile, rs in runs.items():
        med = sorted(rs, key=lambda r: r["docs_per_s"])[len(rs) // 2]
        summary[profile] = {**med, "docs_per_s_runs": [r["docs_per_s"] for r in rs],
                            "docs_per_s_wall_runs": [r["docs_per_s_wall"] for r in rs],
                            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in rs)}
    fast, acc = summary["fast"]["docs_per_s"], summary["accurate"]["docs_per_s"]
    print(json.dumps({"benchmark": "ingest_cli", "quick": a.quick, "documents": n, "repeats": repeats,
                      "models": {k: p.name for k, p in models.items()},
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "machine": f"{platform.machine()} cpus={os.cpu_count()}",
                      "graph_entities": len(entities), "precision": os.environ.get("KGNLP_PRECISION") or "auto",
                      "ratio_fast_vs_accurate": round(fast / acc, 2) if acc else None,
                      "seconds": round(time.time() - started, 1), "profiles": summary}))


if __name__ == "__main__":
    main()
