"""Fine-tune a transformer token classifier on labelled documents (CPU-friendly, seeded)."""
from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Sequence

from nlp.errors import NLPError
from nlp.evaluation import score_layer
from nlp.formats.records import LabelledDoc
from nlp.models import matmul_autocast
from nlp.ner.model_dir import check_out, write_marker
from nlp.ner.training import (EarlyStopping, ProgressFn, TrainConfig, TrainProgress, TrainReport, no_progress,
                              resolve_device, training_precision)
from nlp.ner.transformer import TransformerNER, check_local_dir, default_encoder_path
from nlp.ner.windows import encode, windows, word_tags

IGNORE = -100


def bio_labels(docs: Sequence[LabelledDoc]) -> list[str]:
    """``O`` then ``B-X``/``I-X`` for every entity type in the data, sorted."""
    types = sorted({m.label for d in docs for m in d.mentions})
    if not types:
        raise NLPError("The training data has no entity mentions. Check the file and --format.")
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def training_windows(tokenizer, docs: Sequence[LabelledDoc], label_ids: dict[str, int], size: int,
                     stride: int) -> list[tuple[list[int], list[int]]]:
    """``(input_ids, labels)`` rows with [CLS]/[SEP]; labels sit on each word's first subword."""
    rows = []
    for d in docs:
        enc = encode(tokenizer, d.doc.text)
        if not enc.ids:
            continue
        tags = word_tags(enc, [(m.start, m.end, m.label) for m in d.mentions])
        tok_labels = [IGNORE] * len(enc.ids)
        for (first, _, _), tag in zip(enc.word_spans(), tags):
            tok_labels[first] = label_ids.get(tag, 0)
        for s, e in windows(len(enc.ids), size - 2, stride):
            ids = [tokenizer.cls_token_id, *enc.ids[s:e], tokenizer.sep_token_id]
            labs = [IGNORE, *tok_labels[s:e], IGNORE]
            rows.append((ids, labs))
    return rows


def train_transformer_ner(train_docs: Sequence[LabelledDoc], out_dir: str | Path, config: TrainConfig,
                          dev_docs: Sequence[LabelledDoc] | None = None,
                          progress: ProgressFn | None = None) -> TrainReport:
    """Fine-tune ``config.encoder`` (default MiniLM) and save model + tokenizer + marker to ``out_dir``;
    with dev docs, keep the best epoch by dev F1 and stop after ``patience`` epochs without gain."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer, get_linear_schedule_with_warmup

    progress = progress or no_progress
    started = time.perf_counter()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    precision = training_precision("transformer", config.precision, device)  # a bad value fails before any work
    device_type = device.split(":")[0]
    if device.startswith("cuda"):
        torch.set_float32_matmul_precision("high")  # TF32 matrix products on GPUs that have them
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    encoder = check_local_dir(config.encoder or default_encoder_path())
    labels = bio_labels(train_docs)
    label_ids = {lab: i for i, lab in enumerate(labels)}
    from nlp.models import check_max_length, is_trained_model

    if is_trained_model(encoder):
        raise NLPError(f"'{encoder}' is a trained kgnlp model, not an encoder: pass the encoder it was trained from "
                       "(--encoder), or omit --encoder for the default MiniLM.")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(encoder), local_files_only=True)
        model = AutoModelForTokenClassification.from_pretrained(
            str(encoder), local_files_only=True, num_labels=len(labels),
            id2label=dict(enumerate(labels)), label2id=label_ids, dtype=torch.float32)  # fp32 even from fp16 files
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise NLPError(f"'{encoder}' is not a usable Hugging Face encoder folder ({type(exc).__name__}: {first}): "
                       "pass a folder saved with save_pretrained() (config.json, model.safetensors, tokenizer).") from None
    tokenizer.model_max_length = 1_000_000  # we window ourselves; silence the length warning
    check_max_length(config.max_length, model.config)
    model.to(device)
    rows = training_windows(tokenizer, train_docs, label_ids, config.max_length, config.stride)
    batches_per_epoch = (len(rows) + config.batch_size - 1) // config.batch_size
    total = batches_per_epoch * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    lr = config.learning_rate or 8e-5
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, total // 10), total)
    out = Path(out_dir)
    layer = TransformerNER(model, tokenizer, labels, config.max_length, config.stride)
    early, step, history = EarlyStopping(config.patience), 0, []
    rng = random.Random(config.seed)
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = list(range(len(rows)))
        rng.shuffle(order)
        running = 0.0
        for b in range(batches_per_epoch):
            if step >= total:
                break
            batch = [rows[i] for i in order[b * config.batch_size:(b + 1) * config.batch_size]]
            width = max(len(r[0]) for r in batch)
            ids = torch.full((len(batch), width), tokenizer.pad_token_id or 0, dtype=torch.long)
            labs = torch.full((len(batch), width), IGNORE, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for r, (i_row, l_row) in enumerate(batch):
                ids[r, :len(i_row)] = torch.tensor(i_row)
                labs[r, :len(l_row)] = torch.tensor(l_row)
                mask[r, :len(i_row)] = 1
            with matmul_autocast(precision, device_type):
                loss = model(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labs.to(device)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            value = float(loss.detach())
            running = 0.9 * running + 0.1 * value if b else value
            progress(TrainProgress("train", epoch, step, total, running))
        model.eval()
        record = {"epoch": epoch, "loss": round(running, 4)}
        if dev_docs:
            scores = score_layer(layer, dev_docs)
            record["dev_f1"] = scores.overall.f1
            progress(TrainProgress("eval", epoch, step, total, running, scores.overall.f1))
            if early.update(epoch, scores):
                _save(model, tokenizer, labels, out, config, len(train_docs))
        else:
            early.best_epoch = epoch
        history.append(record)
        if (dev_docs and early.stop) or step >= total:
            break
    if not dev_docs:
        _save(model, tokenizer, labels, out, config, len(train_docs))
    report = TrainReport(str(out), "transformer", tuple(labels), epoch, early.best_epoch,
                         round(time.perf_counter() - started, 1), len(train_docs), early.scores, tuple(history))
    write_marker(out, "transformer", labels, {"max_length": config.max_length, "stride": config.stride,
                                              "config": config.as_dict(), "train_precision": precision,
                                              "report": report.as_dict()})
    return report


def _save(model, tokenizer, labels, out: Path, config: TrainConfig, n_docs: int) -> None:
    check_out(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    write_marker(tmp, "transformer", labels, {"max_length": config.max_length, "stride": config.stride,
                                              "config": config.as_dict(), "train_docs": n_docs})
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
