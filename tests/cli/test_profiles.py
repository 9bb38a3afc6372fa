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

    assert profile_vote([]) == 0 and profile_vote(["cnn"]) == 0  # priorities merge
    assert profile_vote(["cnn", "transformer"]) == 2  # graph names + 2 layers: 2 of 3
    assert profile_vote(["a", "b", "c"]) == 3  # 3 of 4


def test_accurate_profile_refuses_models_without_a_transformer(sample_ws, tmp_path):
    (tmp_path / "m").mkdir()
    proc = kgnlp("ner", "Metformin treats T2D.", "--profile", "accurate", "--model", str(tmp_path / "m"),
                 "--model", str(tmp_path / "missing"), "-w", str(sample_ws))
    assert proc.returncode == 1 and "'" + str(tmp_path / "missing") + "' is not a folder" in proc.stderr
