"""``benchmarks/fusion.py compare``: the paired figures BENCHMARKS.md quotes, computed from run JSON files."""
import json

import pytest

from benchmarks.fusion import compare


def _write(path, task, fusion, scores):
    runs = [{"f1": f1, "seed": seed} for seed, f1 in scores.items()]
    path.write_text(json.dumps({"summary": {}, "runs": {task: {fusion: runs}}}))
    return str(path)


def test_compare_pairs_by_seed(tmp_path, capsys):
    base = _write(tmp_path / "none.json", "ner", "none", {1: 0.80, 2: 0.82, 3: 0.81})
    a = _write(tmp_path / "both-a.json", "ner", "both", {1: 0.83, 2: 0.81})
    b = _write(tmp_path / "both-b.json", "ner", "both", {3: 0.84, 4: 0.90})  # seed 4 has no base run
    out = compare([f"none={base}", f"both={a},{b}"], "ner", "f1")
    both = out["variants"]["both"]
    assert both["by_seed"] == {1: 0.83, 2: 0.81, 3: 0.84, 4: 0.90}
    assert both["paired"]["seeds"] == [1, 2, 3]
    assert both["paired"]["mean"] == pytest.approx(0.0167, abs=1e-4)  # (+0.03 - 0.01 + 0.03) / 3
    assert (both["paired"]["ahead"], both["paired"]["behind"]) == (2, 1)
    assert out["variants"]["none"]["mean"] == pytest.approx(0.81)
    assert "ahead on 2, behind on 1 of 3 seeds" in capsys.readouterr().out


def test_compare_needs_the_variant_named_when_a_file_holds_several(tmp_path):
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"runs": {"ner": {"none": [{"f1": 0.8, "seed": 1}],
                                                 "both": [{"f1": 0.9, "seed": 1}]}}}))
    with pytest.raises(SystemExit, match="name one as FUSION@"):
        compare([f"x={path}"], "ner", "f1")
    out = compare([f"x=both@{path}", f"y=none@{path}"], "ner", "f1")
    assert out["variants"]["y"]["paired"]["mean"] == pytest.approx(-0.1)


def test_compare_refuses_a_seed_given_twice(tmp_path):
    a = _write(tmp_path / "a.json", "ner", "none", {1: 0.8})
    with pytest.raises(SystemExit, match="seed 1 comes twice"):
        compare([f"x={a},{a}"], "ner", "f1")
