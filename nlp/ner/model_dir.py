"""A trained NER model is a directory; ``kgnlp_ner.json`` in it says which kind it is."""
from __future__ import annotations

import json
from pathlib import Path

from nlp.errors import NLPError

MARKER = "kgnlp_ner.json"


def write_marker(out_dir: Path, kind: str, labels: list[str], extra: dict[str, object]) -> None:
    """Record the kind, labels and training facts of a model dir."""
    data = {"format": 1, "kind": kind, "labels": labels, **extra}
    (out_dir / MARKER).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def check_out(out: str | Path) -> None:
    """Before training: ``out`` is new, empty, or a kgnlp NER model (which the new one replaces); anything else
    (another kind of model, an encoder, a folder of files) is refused, nothing written."""
    from nlp.errors import NLPError

    out = Path(out)
    if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
        raise NLPError(f"Output folder '{out}' exists and is not a kgnlp NER model. Choose an empty or new --out.")


def read_marker(path: str | Path) -> dict:
    """The marker of a model dir, with a fix-it error when the folder is not one."""
    path = Path(path)
    marker = path / MARKER
    if not marker.exists():
        raise NLPError(
            f"'{path}' is not a kgnlp NER model directory (no {MARKER}). "
            "Train one with `kgnlp train ner --data FILE --format FORMAT --out DIR`."
        )
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        info = None
    if not isinstance(info, dict):
        raise NLPError(f"'{marker}' is damaged (not a JSON object): copy the whole model folder again or retrain it.")
    return info


def damaged(path: str | Path, exc: BaseException) -> NLPError:
    """The one-line error for a model folder whose files a library could not read (cut, missing, or another
    model's), naming the folder and the library's reason."""
    reason = " ".join(str(exc).split())[:240] or type(exc).__name__
    return NLPError(f"The NER model at '{path}' is damaged or incomplete ({reason}): copy the whole folder again "
                    "or retrain it.")


# a model dir's kind -> the kind of NER layer it loads as (``nlp.interfaces.layer_kind``), known without loading it
LAYER_KINDS = {"spacy": "cnn", "transformer": "transformer"}


def saved_kind(path: str | Path) -> str:
    """The kind ``path``'s marker says ("spacy" or "transformer"), with a fix-it error for any other."""
    kind = read_marker(path).get("kind")
    if kind not in LAYER_KINDS:
        raise NLPError(f"Model dir '{path}' has kind {kind!r}; expected 'spacy' or 'transformer'. Retrain it.")
    return kind


def load_ner_model(path: str | Path, **options: object):
    """The NERLayer saved in ``path`` (a spaCy CNN or a transformer token classifier)."""
    if saved_kind(path) == "spacy":
        from nlp.ner.spacy_cnn import SpacyNER

        return SpacyNER.load(path, **options)
    from nlp.ner.transformer import TransformerNER

    return TransformerNER.load(path, **options)
