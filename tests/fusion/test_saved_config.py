"""``fusion.config``: a fused model's saved files checked before the model loads (without torch)."""
from __future__ import annotations

import json

import pytest

from fusion.config import MAX_HEADER, FusionConfig, SavedConfig, check_weights
from fusion.errors import FusionError


def _saved(folder) -> SavedConfig:
    folder.mkdir()
    return SavedConfig(folder, FusionConfig(head="token", labels=("O", "B-Chemical")), None, None)


def _weights(saved: SavedConfig, header: bytes) -> None:
    (saved.folder / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)


def test_check_weights_reads_a_safetensors_header(tmp_path):
    saved = _saved(tmp_path / "m")
    _weights(saved, json.dumps({"__metadata__": {}}).encode())
    check_weights(saved)
    _weights(saved, b"{not json")
    with pytest.raises(FusionError, match="not a safetensors file"):
        check_weights(saved)


def test_check_weights_refuses_a_header_larger_than_safetensors_reads(tmp_path):
    """The first 8 bytes say how much header to read: over safetensors' own limit (100 MB) the file is refused
    before any of it is read (it was read whole, as large as the file allowed, and this one parsed as JSON)."""
    saved = _saved(tmp_path / "m")
    with open(saved.folder / "model.safetensors", "wb") as fh:  # the size it says, as a sparse file (no 100 MB write)
        fh.write((MAX_HEADER + 1).to_bytes(8, "little") + b"{}")
        fh.truncate(8 + MAX_HEADER + 1)
    with pytest.raises(FusionError, match=f"a header of {MAX_HEADER + 1} bytes"):
        check_weights(saved)


def test_fused_config_is_none_for_other_folders_and_an_error_for_damaged_settings(tmp_path):
    from fusion.config import MARKER, fused_config

    (tmp_path / "ner").mkdir()
    (tmp_path / "ner" / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")  # an HF model's
    assert fused_config(tmp_path / "ner") is None and fused_config(tmp_path / "none") is None
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps({"kgnlp": MARKER, "fusion": {"head": "tree"}}),
                                                encoding="utf-8")
    with pytest.raises(FusionError, match=r"is damaged \(its \"fusion\" settings"):
        fused_config(tmp_path / "m")
