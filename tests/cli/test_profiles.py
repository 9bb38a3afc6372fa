"""--profile fast|accurate: checked before anything is written, with one-line errors."""
from __future__ import annotations

import pytest

from tests.conftest import DATA, kgnlp


def test_accurate_without_a_transformer_model_writes_nothing(tmp_path):
    ws = tmp_path / "ws"
    proc = kgnlp("ingest", str(DATA / "documents" / "medical"), "--profile", "accurate", "-w", str(ws))
    assert proc.returncode == 1 and "accurate profile needs a trained transformer" in proc.stderr
    assert not ws.exists()


def test_unknown_profile_and_missing_model_folder(sample_ws, tmp_path):
    proc = kgnlp("ner", "Metformin treats T2D.", "--profile", "turbo", "-w", str(sample_ws))
    assert proc.returncode == 2 and "'turbo' is not one of: fast, accurate" in proc.stderr
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


def _model_dir(folder, kind: str):
    """A folder whose kgnlp_ner.json says ``kind`` ("spacy" or "transformer"): what --profile reads (no model)."""
    folder.mkdir()
    (folder / "kgnlp_ner.json").write_text(f'{{"kind": "{kind}"}}', encoding="utf-8")
    return folder


def test_layers_say_their_kind_and_the_profiles_go_by_the_kind_the_folder_says(tmp_path):
    """A model dir's kind decides what --profile makes of it (not its folder's name), read before it loads; the
    layers it loads as say the same kind."""
    import pytest

    from cli.commands.ingest import check_profile
    from fusion.ner import FusedNER
    from nlp.errors import NLPError
    from nlp.gazetteer import Gazetteer
    from nlp.interfaces import layer_kind
    from nlp.ner.model_dir import LAYER_KINDS
    from nlp.ner.spacy_cnn import SpacyNER
    from nlp.ner.transformer import TransformerNER

    assert [layer_kind(c) for c in (Gazetteer, SpacyNER, TransformerNER, FusedNER)] == \
        ["names", "cnn", "transformer", "transformer"]
    assert layer_kind(object()) == ""
    assert LAYER_KINDS == {"spacy": layer_kind(SpacyNER), "transformer": layer_kind(TransformerNER)}

    tagger = _model_dir(tmp_path / "my-tagger", "transformer")
    cnn = _model_dir(tmp_path / "transformer", "spacy")  # the name does not decide
    assert check_profile("accurate", [tagger, cnn]) == [tagger, cnn]
    assert check_profile("fast", [cnn]) == [cnn] and check_profile(None, [tagger]) == [tagger]
    with pytest.raises(NLPError, match="fast profile runs none"):
        check_profile("fast", [tagger])
    with pytest.raises(NLPError, match="needs a transformer model"):
        check_profile("accurate", [cnn])


def test_accurate_with_only_a_cnn_model_writes_nothing(tmp_path):
    """The accurate profile with a spaCy CNN --model and no transformer: refused before the workspace is made or
    the --seed stored (it was refused once the models had loaded, after both)."""
    from tests.conftest import write_seed

    cnn = _model_dir(tmp_path / "cnn", "spacy")
    seed = write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"}])
    ws = tmp_path / "ws"
    proc = kgnlp("ingest", str(DATA / "documents" / "medical"), "--seed", str(seed), "--profile", "accurate",
                 "--model", str(cnn), "-w", str(ws))
    assert proc.returncode == 1 and "needs a transformer model among --model" in proc.stderr, proc.stderr
    assert not ws.exists()


def test_ingest_starts_no_spacy_workers_beside_a_transformer_kind_layer(tmp_path, monkeypatch):
    from kg.stores.sqlite import SQLiteStore
    from nlp import ingest as ing

    seen = []
    monkeypatch.setattr(ing, "auto_processes", lambda n, heavy=False: seen.append(heavy) or 1)

    class Tagger:  # a transformer-kind layer that finds nothing
        name, kind, priority = "t", "transformer", 30

        def predict(self, texts):
            return [[] for _ in texts]

    from nlp.loaders import load_documents

    docs = load_documents([DATA / "documents" / "medical" / "med01_metformin.txt"])
    store = SQLiteStore.open(tmp_path / "g.db")
    try:
        ing.ingest_documents(store, docs, extra_ner=[Tagger()])
        store2 = SQLiteStore.open(tmp_path / "g2.db")
        ing.ingest_documents(store2, docs)
        store2.close()
    finally:
        store.close()
    assert seen == [True, False]


def test_unknown_training_precision_is_a_one_line_error_before_data_is_read(tmp_path):
    missing = str(tmp_path / "no-such-file.jsonl")  # the precision is checked first, so this is never opened
    for cmd in (("train", "ner", "--kind", "transformer"), ("train", "ner", "--fusion", "none"),
                ("train", "classify"), ("train", "qa")):
        proc = kgnlp(*cmd, "--data", missing, "--out", str(tmp_path / "m"), "--precision", "fp8")
        assert proc.returncode == 1 and "Unknown precision 'fp8'" in proc.stderr, cmd
        assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "m").exists()
    proc = kgnlp("train", "ner", "--kind", "spacy", "--data", missing, "--out", str(tmp_path / "m"),
                 "--precision", "bf16")
    assert proc.returncode == 1 and "spaCy CNN trains in fp32 only" in proc.stderr and not (tmp_path / "m").exists()


@pytest.mark.parametrize("kind", ["spacy", "transformer"])
def test_ingest_refuses_a_damaged_plain_model_before_touching_the_workspace(tmp_path, kind):
    """A spaCy or transformer --model (not fused) whose files are missing loads before ingest makes the workspace or
    stores the --seed: it left an empty new workspace behind (and a stored seed)."""
    from tests.conftest import write_seed

    model = _model_dir(tmp_path / "m", kind)  # the marker alone: no pipeline/, no weights
    seed = write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"}])
    ws = tmp_path / "ws"
    proc = kgnlp("ingest", str(DATA / "documents" / "medical" / "med01_metformin.txt"), "--seed", str(seed),
                 "--model", str(model), "-w", str(ws))
    assert proc.returncode == 1 and str(model) in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not ws.exists()
