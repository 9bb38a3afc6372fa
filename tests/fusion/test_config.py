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
    _weights(saved, b"{}" + b" " * (MAX_HEADER - 1))  # JSON, padded with spaces as safetensors pads its headers
    with pytest.raises(FusionError, match=f"a header of {MAX_HEADER + 1} bytes"):
        check_weights(saved)
    assert MAX_HEADER == 100_000_000
