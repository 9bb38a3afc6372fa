"""Knowledge-graph embeddings: train with PyKEEN, save without pickle, evaluate, infer new entities.

Heavy imports (torch, PyKEEN) happen only inside :func:`train_embeddings`.
"""
from kg.embeddings.data import TripleData, build_triple_data, labelled_facts, split_facts
from kg.embeddings.evaluate import LinkMetrics, evaluate_link_prediction
from kg.embeddings.infer import infer_new_entities
from kg.embeddings.scoring import MODELS
from kg.embeddings.train import TrainConfig, TrainEvent, TrainResult, train_and_evaluate, train_embeddings
from kg.embeddings.vectors import EmbeddingMeta, KGEmbeddings, embeddings_dir, load_embeddings

__all__ = [
    "MODELS", "EmbeddingMeta", "KGEmbeddings", "LinkMetrics", "TrainConfig", "TrainEvent", "TrainResult",
    "TripleData", "build_triple_data", "embeddings_dir", "evaluate_link_prediction", "infer_new_entities",
    "labelled_facts", "load_embeddings", "split_facts", "train_and_evaluate", "train_embeddings",
]
