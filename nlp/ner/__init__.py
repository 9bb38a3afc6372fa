"""Trainable NER layers: a spaCy CNN (fast) and a fine-tuned transformer token classifier (accurate).

Heavy libraries load only when a model is loaded or trained.
"""
from nlp.ner.model_dir import load_ner_model
from nlp.ner.training import KINDS, TrainConfig, TrainProgress, TrainReport

__all__ = ["KINDS", "TrainConfig", "TrainProgress", "TrainReport", "load_ner_model", "train_ner"]


def train_ner(train_docs, out_dir, config: TrainConfig, dev_docs=None, progress=None) -> TrainReport:
    """Train the kind of model ``config.kind`` names on labelled docs and save it to ``out_dir``."""
    from nlp.errors import NLPError

    from nlp.ner.model_dir import check_out

    if config.kind in KINDS:
        check_out(out_dir)
    if config.kind == "spacy":
        from nlp.ner.spacy_cnn import train_spacy_ner as trainer
    elif config.kind == "transformer":
        from nlp.ner.train_transformer import train_transformer_ner as trainer
    else:
        raise NLPError(f"Unknown NER kind '{config.kind}'. Choose one of: {', '.join(KINDS)}.")
    return trainer(train_docs, out_dir, config, dev_docs=dev_docs, progress=progress)
