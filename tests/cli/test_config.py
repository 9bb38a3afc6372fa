"""kgnlp.toml gives option defaults; flags and environment variables override it; bad files fail in one line."""
from __future__ import annotations

from tests.conftest import kgnlp, kgnlp_json


def test_config_workspace_and_flag_override(sample_ws, tmp_path):
    (tmp_path / "kgnlp.toml").write_text(f'workspace = "{sample_ws}"\n', encoding="utf-8")
    got = kgnlp_json("query", "entity", "metformin", cwd=tmp_path)
    assert got["entity"]["id"] == "chem:metformin"
    assert "metformin\tTREATS" in kgnlp("export", "--format", "tsv", cwd=tmp_path, check=True).stdout
    assert kgnlp_json("stats", cwd=tmp_path)["documents"] == 47
    (tmp_path / "kgnlp.toml").write_text(f'workspace = "{tmp_path / "elsewhere"}"\n', encoding="utf-8")
    assert kgnlp("query", "entity", "metformin", cwd=tmp_path).returncode == 1
    assert kgnlp_json("query", "entity", "metformin", "-w", str(sample_ws), cwd=tmp_path)["entity"]
    env = {"KGNLP_WORKSPACE": str(sample_ws)}
    assert kgnlp_json("query", "entity", "metformin", cwd=tmp_path, env=env)["entity"]


def test_unknown_setting_is_one_line_error(tmp_path):
    (tmp_path / "kgnlp.toml").write_text('workspace = "x"\nstorage = "neo4j"\n', encoding="utf-8")
    proc = kgnlp("query", "entity", "metformin", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0
    assert "Unknown setting(s) storage" in proc.stderr


def test_the_model_setting_reaches_only_the_ner_commands_and_becomes_a_list():
    import typer

    from cli.config import default_map
    from cli.main import app

    dm = default_map(typer.main.get_command(app), {"model": "models/ner"})
    assert dm["ingest"]["model"] == ["models/ner"] and dm["ner"]["model"] == ["models/ner"]
    assert dm["eval"]["ner"]["model"] == ["models/ner"]
    assert "model" not in dm.get("embed", {}) and "model" not in dm.get("classify", {})
