"""`make bench-quick` on a fresh checkout: a benchmark's --quick makes what it needs (tiny models, the prepared
fusion graphs) instead of stopping; the work itself is replaced by stand-ins here, so the test is fast."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def _needs(name: str):
    """Skip a test that reads ../shared/datasets/NAME where a checkout has no such data beside it."""
    return pytest.mark.skipif(not (_DATASETS / name).is_dir(), reason=f"no {_DATASETS / name}")


def _fake_model(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "kgnlp_ner.json").write_text("{}")
    return path


def test_ingest_cli_quick_without_trained_models_trains_the_tiny_ones_and_prints_its_json(tmp_path, monkeypatch,
                                                                                          capsys):
    from benchmarks import ingest_cli

    extraction = sys.modules["extraction"]
    trained = []

    def model_dir(corpus, kind, quick, epochs):
        print("training progress")  # must not land on stdout
        trained.append((corpus, kind, quick))
        return _fake_model(tmp_path / "models" / f"quick-{corpus}-{kind}")

    monkeypatch.setattr(ingest_cli, "MODELS", tmp_path / "models")  # a fresh checkout: no trained model
    monkeypatch.setattr(extraction, "model_dir", model_dir)
    monkeypatch.setattr(ingest_cli, "split", lambda corpus, part: [])
    monkeypatch.setattr(ingest_cli, "kb_from", lambda docs: [])
    used = []

    def run_profile(profile, docs_file, work, entities, n, models):
        used.append(sorted(p.name for p in models.values()))
        return {"docs_per_s": 1.0, "docs_per_s_wall": 1.0, "peak_rss_mb": 1}

    monkeypatch.setattr(ingest_cli, "run_profile", run_profile)
    monkeypatch.setattr(sys, "argv", ["ingest_cli.py", "--quick"])
    ingest_cli.main()
    out = capsys.readouterr().out
    assert sorted(trained) == [("bc5cdr", "spacy", True), ("bc5cdr", "transformer", True)]
    assert used == [["quick-bc5cdr-spacy", "quick-bc5cdr-transformer"]] * 2
    last = json.loads(out.strip().splitlines()[-1])
    assert out.strip().splitlines() == [out.strip().splitlines()[-1]]
    assert last["models"] == {"spacy": "quick-bc5cdr-spacy", "transformer": "quick-bc5cdr-transformer"}


def test_ingest_cli_full_run_still_needs_the_shipped_models(tmp_path, monkeypatch):
    from benchmarks import ingest_cli

    monkeypatch.setattr(ingest_cli, "MODELS", tmp_path / "models")
    monkeypatch.setattr(sys, "argv", ["ingest_cli.py"])
    with pytest.raises(SystemExit, match="bc5cdr-spacy is missing"):
        ingest_cli.main()


def test_ner_cli_quick_without_a_prepared_graph_prepares_it_once(tmp_path, monkeypatch, capsys):
    from benchmarks import fusion, ner_cli

    calls = []

    def prepare(out, seconds, graphs=("bio", "fin"), ner_model=""):
        calls.append(out)
        for name in ner_cli.NEED:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text("")
        return {"stand_in": True}

    monkeypatch.setattr(fusion, "prepare", prepare)
    monkeypatch.setattr(ner_cli, "workspace_from_prepared", lambda prepared, ws: (_ for _ in ()).throw(
        RuntimeError(f"stop after preparing {prepared}")))
    monkeypatch.setattr(sys, "argv", ["ner_cli.py", "--quick", "--prepared", str(tmp_path / "prep")])
    with pytest.raises(RuntimeError, match="stop after preparing"):
        ner_cli.main()
    assert calls == [tmp_path / "prep"]
    captured = capsys.readouterr()
    assert captured.out == "" and "--quick prepares it first" in captured.err
    fusion.prepare_for_quick(tmp_path / "prep", ner_cli.NEED, "ner_cli")  # already there: nothing to do
    assert calls == [tmp_path / "prep"]


@pytest.mark.parametrize("argv, need", [(["fusion_speed.py", "--task", "fpb"], ("fin.db", "emb-fin")),
                                        (["fusion_speed.py"], ("bio.db", "emb-bio")),
                                        (["pubmedqa_graph_reach.py"], ("bio.db",))])
def test_fusion_benchmarks_quick_prepare_what_they_read_and_say_how_otherwise(tmp_path, monkeypatch, capsys, argv,
                                                                              need):
    """One rule for every benchmark that reads prepared fusion graphs (`benchmarks.fusion.need_prepared`): --quick
    on a fresh checkout prepares them (for `fusion_speed --task fpb` too), else one line says how to."""
    import importlib

    from benchmarks import fusion

    bench = importlib.import_module(f"benchmarks.{argv[0][:-3]}")
    calls = []

    def prepare(out, seconds, graphs=("bio", "fin"), ner_model=""):
        calls.append(out)
        out.mkdir(parents=True, exist_ok=True)
        return {"stand_in": True}  # writes nothing: the run stops at the check that follows

    monkeypatch.setattr(fusion, "prepare", prepare)
    prep = tmp_path / "prep"
    monkeypatch.setattr(sys, "argv", [*argv, "--prepared", str(prep)])
    with pytest.raises(SystemExit, match="or --quick"):
        bench.main()
    assert calls == []
    monkeypatch.setattr(sys, "argv", [*argv, "--quick", "--prepared", str(prep)])
    with pytest.raises(SystemExit) as stop:
        bench.main()
    assert calls == [prep] and all(n in str(stop.value) for n in need), stop.value
    assert capsys.readouterr().out == ""


def _small_sample_data(tmp_path: Path, docs: tuple[str, ...], ner_lines: int) -> Path:
    """The sample data with only ``docs`` to ingest (their gold facts alone) and the first ``ner_lines`` NER
    sentences: the same run of every step, a fraction of the work."""
    data = Path(__file__).resolve().parents[2] / "data"
    small = tmp_path / "data"
    (small / "documents").mkdir(parents=True)
    (small / "labelled").mkdir()
    (small / "seed").symlink_to(data / "seed")
    for doc in docs:
        (small / "documents" / doc).symlink_to(next((data / "documents").rglob(doc)))
    stems = {Path(d).stem for d in docs}
    gold = [line for line in (data / "labelled" / "doc_triples.jsonl").read_text().splitlines()
            if json.loads(line)["doc"] in stems]
    (small / "labelled" / "doc_triples.jsonl").write_text("\n".join(gold) + "\n")
    ner = (data / "labelled" / "ner.jsonl").read_text().splitlines()[:ner_lines]
    (small / "labelled" / "ner.jsonl").write_text("\n".join(ner) + "\n")
    (small / "labelled" / "qa.jsonl").symlink_to(data / "labelled" / "qa.jsonl")
    return small


def test_sample_data_prints_its_json_with_the_ner_scores_per_label(tmp_path, monkeypatch, capsys):
    """It stopped with "'NERScores' object has no attribute 'items'" once evaluate_ner returned its scores as a record.
    Run on two of the 47 documents and 11 of the 40 NER sentences (every label but Person)."""
    from benchmarks import sample_data

    small = _small_sample_data(tmp_path, ("med01_metformin.txt", "fin01_northwind_acquisition.txt"), 11)
    monkeypatch.setattr(sample_data, "DATA", small)
    monkeypatch.setattr(sys, "argv", ["sample_data.py", "--quick"])
    sample_data.main()
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["benchmark"] == "sample_data" and last["qa"]["questions"] == 30
    assert last["documents"] == 2 and last["facts"]["tp"] > 0
    assert {"all", "Chemical", "Organization"} <= set(last["ner"])
    assert last["ner"]["all"]["tp"] > 0


# ------------------------------------------------------------------ --quick is a check of minutes (2026-12-02)
def _fusion_run_args(monkeypatch, *argv: str):
    """The options `benchmarks/fusion.py ARGV` hands to ``run`` (stopped there)."""
    from benchmarks import fusion

    seen = []
    monkeypatch.setattr(fusion, "run", lambda args: seen.append(args) or {})
    monkeypatch.setattr(sys, "argv", ["fusion.py", *argv])
    fusion.main()
    return seen[0]


def test_fusion_quick_trains_one_seed_of_none_and_both_on_a_few_examples(monkeypatch):
    """`fusion --quick` trained 36 models on the quick set (3 seeds x 4 fusions x 3 tasks, over an hour on CPU)."""
    from benchmarks.fusion import SIZES, run_size

    args = _fusion_run_args(monkeypatch, "--quick")
    assert (args.seeds, args.fusion, args.pubmedqa_length) == ("1", "none,both", 128)
    assert run_size(args) == SIZES["smoke"] and SIZES["smoke"]["epochs"] == 1


def test_fusion_full_run_and_quick_set_keep_their_defaults_and_quick_keeps_what_is_given(monkeypatch):
    from benchmarks.fusion import SIZES, run_size

    full = _fusion_run_args(monkeypatch)
    assert (full.seeds, full.fusion, full.pubmedqa_length) == ("1,2,3", "none,facts,embeddings,both", 256)
    assert run_size(full) == SIZES["full"]
    quick_set = _fusion_run_args(monkeypatch, "run", "--quick-set", "--tasks", "ner")
    assert (quick_set.seeds, quick_set.fusion) == ("1,2,3", "none,facts,embeddings,both")
    assert run_size(quick_set) == SIZES["quick"] == {"ner": (120, 100), "fpb": (800, 400), "pubmedqa": (450, 500),
                                                     "epochs": 3}
    given = _fusion_run_args(monkeypatch, "--quick", "--seeds", "2,3", "--fusion", "facts", "--pubmedqa-length", "64")
    assert (given.seeds, given.fusion, given.pubmedqa_length) == ("2,3", "facts", 64)


@_needs("pubmedqa")
@pytest.mark.parametrize("quick, questions, length", [(True, 40, ["--max-length", "128"]), (False, 500, [])])
def test_pubmedqa_ask_quick_trains_on_40_short_questions_and_the_full_run_as_before(monkeypatch, quick, questions,
                                                                                    length):
    from benchmarks import pubmedqa_ask

    calls = []

    def kgnlp(*args):
        calls.append(args)
        data = Path(args[args.index("--data") + 1])
        raise RuntimeError(f"stop: {len(json.loads(data.read_text()))} questions")

    monkeypatch.setattr(pubmedqa_ask, "kgnlp", kgnlp)
    monkeypatch.setattr(sys, "argv", ["pubmedqa_ask.py", *(["--quick"] if quick else [])])
    with pytest.raises(RuntimeError, match=f"stop: {questions} questions"):
        pubmedqa_ask.main()
    args = calls[0]
    assert args[args.index("--epochs") + 1] == ("1" if quick else "2")
    given = args[args.index("--max-length"):][:2] if "--max-length" in args else ()
    assert list(given) == length


@_needs("hetionet")
def test_stores_quick_loads_a_sample_of_edges_with_only_their_entities_and_the_full_run_everything():
    from benchmarks import stores

    entities, rows = stores.load_data(quick=True)
    assert len(rows) == stores.QUICK_EDGES == 3000
    assert {e.id for e in entities} == {h for h, _, _ in rows} | {t for _, _, t in rows}
    full_entities, full_rows = stores.load_data(quick=False)
    assert len(full_entities) == 47031 and len(full_rows) > 100_000 and set(rows) <= set(full_rows)


def test_stores_cold_start_times_a_stored_entity_when_the_quick_sample_lacks_metformin(tmp_path):
    """The cold start looked up Compound::DB00997 and failed ('NoneType' has no attribute 'name') without it."""
    from benchmarks import stores
    from kg.records import Entity
    from kg.workspace import Workspace

    store = Workspace.open(tmp_path / "ws", create=True).open_store("embedded")
    store.add([], [Entity("Disease::DOID:9352", "type 2 diabetes mellitus", "Disease")])
    store.close()
    out = stores.cold_start(tmp_path, runs=1)
    assert out["command"] == "kgnlp query entity 'type 2 diabetes mellitus'" and out["runs"] == 1, out


@_needs("bc5cdr")
def test_extraction_quick_builds_its_graph_from_a_few_abstracts_and_keeps_the_full_cid_classifier(monkeypatch):
    """--quick trained the CID classifier on every train abstract and saved it over the full run's."""
    from benchmarks import extraction

    train, dev = extraction.graph_docs(quick=True)
    assert len(train) == len(dev) == extraction.QUICK["graph_docs"] == 40
    assert extraction.cid_dir(True) != extraction.cid_dir(False) == extraction.MODELS / "bc5cdr-cid"
    cmds = []

    def run(cmd, **kw):
        cmds.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, '{"docs_per_s": 1.0}\n', "")

    monkeypatch.setattr(extraction.subprocess, "run", run)
    assert extraction.throughput("fast", {}, 20, 2, 1, quick=True) == {"docs_per_s": 1.0}
    assert extraction.throughput("fast", {}, 500, 2, 1) == {"docs_per_s": 1.0}
    assert ["--quick" in cmd for cmd in cmds] == [True, False]
