"""An NER layer's mentions in labelled documents (scored by ``nlp.evaluation.score_ner``)."""
from __future__ import annotations

from typing import Sequence

from kg.records import Mention
from nlp.formats.records import LabelledDoc


def predict_docs(layer, docs: Sequence[LabelledDoc], batch_size: int = 32) -> list[list[Mention]]:
    """An NERLayer's mentions in each labelled document's text, ``batch_size`` texts at a time."""
    predicted: list[list[Mention]] = []
    for i in range(0, len(docs), batch_size):
        predicted.extend(layer.predict([d.doc.text for d in docs[i:i + batch_size]]))
    return predicted
