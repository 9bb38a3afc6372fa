"""fusion: graph embeddings and retrieved facts inside a fine-tuned transformer (issue 6).

Torch and transformers load only in the modules that need them (model, batch, train, predict).
"""
from fusion.config import FusionConfig
from fusion.context import Fact, KGContext, NameLinker, build_kg_context
from fusion.errors import FusionError


def __getattr__(name: str):
    if name == "FusedModel":
        from fusion.model import FusedModel

        return FusedModel
    if name == "train_fused_ner":
        from fusion.ner import train_fused_ner

        return train_fused_ner
    raise AttributeError(name)


__all__ = ["Fact", "FusedModel", "FusionConfig", "FusionError", "KGContext", "NameLinker", "build_kg_context",
           "train_fused_ner"]
