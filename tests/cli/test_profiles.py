"""--profile fast|accurate: checked before anything is written, with one-line errors."""
from __future__ import annotations

from tests.conftest import DATA, kgnlp


def test_accurate_without_a_transformer_model_writes_nothing(tmp_path):
    ws = tmp_path / "ws"
    proc = kgnlp("ingest", str(DATA / "documents" / "medical"), "--profile", "accurate", "-w", str(ws))
    assert proc.returncode == 1 and "accurate profile needs a trained transformer" in proc.stderr
    assert not ws.exists()


def test_unknown_profile_and_missing_model_folder(sample_ws, tmp_path):
    proc = kgnlp("ner", "Metformin treats T2D.", "--profile", "turbo", "-w", str(sample_ws))
    assert proc.returncode == 1 and "Unknown profile 'turbo'" in proc.stderr
    proc = kgnlp("ner", "Metformin treats T2D.", "--model", str(tmp_path / "none"), "-w", str(sample_ws))
    assert proc.returncode == 1 and "is not a folder" in proc.stderr


def test_fast_profile_is_the_default(sample_ws):
    proc = kgnlp("ner", "Metformin treats T2D.", "--profile", "fast", "-w", str(sample_ws), "--json", check=True)
    assert '"Metformin"' in proc.stdout


def test_two_trained_layers_vote_with_the_graph_names():
    from cli.commands.ingest import profile_vote

    class Transformer:
        vote_weight = 2.0

    assert profile_vote([]) == 0 and profile_vote(["cnn"]) == 0  # priorities merge
    assert profile_vote(["cnn", "cnn2"]) == 1.5  # graph names + 2 equal layers: 2 of 3
    assert profile_vote(["cnn", Transformer()]) == 2  # names 1 + CNN 1 + transformer 2: half of 4
    assert profile_vote(["a", "b", Transformer()]) == 2.5  # 5 votes: the transformer needs one more


def test_accurate_profile_refuses_models_without_a_transformer(sample_ws, tmp_path):
    (tmp_path / "m").mkdir()
    proc = kgnlp("ner", "Metformin treats T2D.", "--profile", "accurate", "--model", str(tmp_path / "m"),
                 "--model", str(tmp_path / "missing"), "-w", str(sample_ws))
    assert proc.returncode == 1 and "'" + str(tmp_path / "missing") + "' is not a folder" in proc.stderr


def test_train_ner_on_a_gpu_that_is_not_there_is_a_one_line_error(tmp_path):
    fix = DATA.parent / "tests" / "fixtures" / "extraction" / "tiny.jsonl"
    if not fix.exists():
        from pathlib import Path

        fix = Path(__file__).resolve().parents[1] / "fixtures" / "extraction" / "tiny.jsonl"
    proc = kgnlp("train", "ner", "--data", str(fix), "--kind", "transformer", "--device", "cuda",
                 "--out", str(tmp_path / "m"), env={"CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 1 and "--device cuda" in proc.stderr and "no CUDA GPU" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "m").exists()
    proc = kgnlp("train", "ner", "--data", str(fix), "--kind", "spacy", "--device", "cuda",
                 "--out", str(tmp_path / "s"))
    assert proc.returncode == 1 and "CPU only" in proc.stderr and not (tmp_path / "s").exists()


def test_ingest_updates_only_the_indexes_the_workspace_has(tmp_path):
    from kg.index import SyncedIndex

    files = sorted((DATA / "documents" / "medical").glob("*.txt"))
    assert len(files) >= 2
    ws = tmp_path / "ws"
    kgnlp("ingest", str(files[0]), "-w", str(ws), check=True)
    kgnlp("index", "--kind", "entities", "-w", str(ws), check=True)
    idx = SyncedIndex.open(ws / "index" / "entities", "entities")
    before = len(idx)
    idx.close()
    kgnlp("ingest", *map(str, files[1:]), "-w", str(ws), check=True)
    idx = SyncedIndex.open(ws / "index" / "entities", "entities")
    after = len(idx)
    idx.close()
    assert after > before  # the entity-name index kept up with the new entities
    assert not SyncedIndex.exists(ws / "index" / "facts") and not SyncedIndex.exists(ws / "index" / "chunks")
