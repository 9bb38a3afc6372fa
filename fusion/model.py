"""``FusedModel``: a BERT-style HF encoder with K-BERT fact injection and ERNIE-style entity fusion.

The encoder is run layer by layer so that (1) K-BERT rows get explicit soft ``position_ids`` and a 4-D
additive visibility mask, and (2) graph embeddings can be added at any layer: for tokens of a linked mention,
``h <- h + g * tanh(W e)`` with ``g = sigmoid(U [h; W e])`` (a learned per-dimension gate), where ``e`` is the
entity's KG vector. Heads: token (BIO), sequence (single label), multilabel, span (extractive QA).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from fusion.config import (MARKER, FusionConfig, SavedConfig, _one_line, check_weights, is_fused_model, saved_config,
                           weights_error)
from fusion.errors import FusionError
from nlp.models import check_max_length

FORMAT = 1


class FusedModel(nn.Module):
    """Build with :meth:`from_encoder` (fine-tuning start) or :meth:`load` (a saved directory)."""

    def __init__(self, config: FusionConfig, encoder: nn.Module, kg_table: torch.Tensor | None = None,
                 entity_ids: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.config = config.checked()
        if not (hasattr(encoder, "embeddings") and hasattr(getattr(encoder, "encoder", None), "layer")):
            raise FusionError(f"Encoder {type(encoder).__name__} is not BERT-like (embeddings + encoder.layer). "
                              "Use a BERT, RoBERTa or MiniLM model directory.")
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        n_layers = len(encoder.encoder.layer)
        if config.inject_layer > n_layers:
            raise FusionError(f"inject_layer {config.inject_layer} is past the encoder's {n_layers} layers; "
                              f"choose 0..{n_layers}.")
        self.entity_ids = tuple(entity_ids)
        self.entity_row = {e: i + 1 for i, e in enumerate(self.entity_ids)}
        self.kg_embeddings = None  # the KGEmbeddings the training facts were ranked with (saved along)
        self._kg_saved_in: tuple | None = None  # (kg_embeddings, the folder it was last saved to or loaded from)
        self.encoder_source = ""  # the encoder folder from_encoder read: part of a training run's identity
        self.graph_origin = None  # fusion.origin.GraphOrigin: the graph it was trained with (config.json "graph")
        dim = config.kg_dim if config.uses_embeddings else 0
        if dim:
            if kg_table is None or kg_table.shape != (len(entity_ids) + 1, dim):
                raise FusionError(f"KG table of shape {None if kg_table is None else tuple(kg_table.shape)} does "
                                  f"not match {len(entity_ids)} entities of width {dim}.")
            self.register_buffer("kg_table", kg_table.float(), persistent=False)
            self.kg_proj = nn.Linear(dim, hidden)
            self.kg_gate = nn.Linear(2 * hidden, hidden)
            nn.init.constant_(self.kg_gate.bias, -1.0)  # start mostly closed: fine-tuning begins near the encoder
        self.dropout = nn.Dropout(config.dropout)
        # per-class loss weights for single-label training (set by the trainer; not saved: inference ignores them)
        self.register_buffer("loss_weights", None, persistent=False)
        n_out = 2 if config.head == "span" else len(config.labels)
        self.head = nn.Linear(hidden, n_out)
        # FusionConfig.kg_readout: the mean KG vector of the input's knowledge, straight into the logits (no bias:
        # an input without knowledge gets the plain head's logits)
        self.kg_readout = nn.Linear(dim, n_out, bias=False) if config.kg_readout else None

    # ---- construction ------------------------------------------------------------------------
    @classmethod
    def from_encoder(cls, encoder_dir: str | Path, config: FusionConfig, embeddings=None) -> "FusedModel":
        """A pretrained local encoder (safetensors only) plus fresh fusion layers and head.

        ``embeddings`` is a ``KGEmbeddings``; its vectors are scaled to unit standard deviation.
        """
        from transformers import AutoModel

        path = Path(encoder_dir)
        if not (path / "config.json").exists():
            raise FusionError(f"'{path}' is not a local Hugging Face model folder (no config.json). "
                              "Pass a folder with config.json and model.safetensors.")
        if is_fused_model(path):
            raise FusionError(f"'{path}' is a trained kgnlp model, not an encoder: pass the encoder it was trained "
                              "from (--encoder), or omit --encoder for the default MiniLM.")
        try:
            encoder = AutoModel.from_pretrained(str(path), local_files_only=True, use_safetensors=True,
                                                add_pooling_layer=False, attn_implementation="sdpa",
                                                dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise FusionError(f"'{path}' is not a usable Hugging Face encoder folder ({_one_line(exc, 200)}): "
                              "pass a folder saved with save_pretrained() (config.json, model.safetensors, "
                              "tokenizer).") from exc
        check_max_length(config.max_length, encoder.config)
        table, ids = None, ()
        if config.uses_embeddings:
            if embeddings is None:
                raise FusionError(f"Fusion '{config.fusion}' needs graph embeddings. Train them with `kgnlp embed` "
                                  "or choose --fusion facts|none.")
            table, ids = kg_table(embeddings)
            config = config.with_(kg_dim=int(table.shape[1]))
        model = cls(config, encoder, table, ids)
        model.encoder_source = str(path.resolve())
        if embeddings is not None and config.fusion != "none":
            model.kg_embeddings = embeddings  # inference ranks each entity's facts the way training did
        return model

    # ---- forward -----------------------------------------------------------------------------
    def encode(self, batch: dict) -> torch.Tensor:
        """Final hidden states ``(B, L, H)``."""
        enc = self.encoder
        h = enc.embeddings(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                           position_ids=batch["position_ids"])
        mask = batch["attention_mask"].to(h.dtype)
        for i, layer in enumerate(enc.encoder.layer):
            if i == self.config.inject_layer:
                h = self._fuse(h, batch["entity_rows"])
            out = layer(h, attention_mask=mask)
            h = out[0] if isinstance(out, tuple) else out
        if self.config.inject_layer == len(enc.encoder.layer):
            h = self._fuse(h, batch["entity_rows"])
        return h

    def _fuse(self, h: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        if not self.config.uses_embeddings:
            return h
        # only tokens of linked mentions change (h + g * e); the others stay h, so compute just those rows
        # (small ops on K rows instead of several over the whole (B, L, H) batch)
        idx = torch.nonzero(rows.reshape(-1) > 0).squeeze(1)
        if idx.numel() == 0:
            return h
        flat = h.reshape(-1, h.shape[-1])
        hs = flat.index_select(0, idx)
        e = torch.tanh(self.kg_proj(self.kg_table[rows.reshape(-1).index_select(0, idx)]))
        gate = torch.sigmoid(self.kg_gate(torch.cat([hs, e], dim=-1)))
        new = hs + gate * e
        if torch.is_grad_enabled():
            return flat.index_copy(0, idx, new).view_as(h)
        return flat.index_copy_(0, idx, new).view_as(h)  # no autograd: h is this forward's own tensor

    def _knowledge_mean(self, rows: torch.Tensor) -> torch.Tensor:
        """``(B, kg_dim)`` mean of the KG vectors of ``rows`` (``(B, K)``, 0 = none); zeros for a row without any."""
        have = (rows > 0).unsqueeze(-1).to(self.kg_table.dtype)
        return (self.kg_table[rows] * have).sum(1) / have.sum(1).clamp(min=1.0)

    def forward(self, batch: dict) -> dict:
        """``{"logits": ...}`` plus ``"loss"`` when the batch carries labels."""
        h = self.dropout(self.encode(batch))
        head = self.config.head
        out: dict = {}
        if head == "token":
            logits = self.head(h)
            out["logits"] = logits
            if "labels" in batch:
                out["loss"] = nn.functional.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(),
                                                          ignore_index=-100)
        elif head in ("sequence", "multilabel"):
            m = batch["body_mask"].unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
            logits = self.head(pooled)
            if self.kg_readout is not None:
                logits = logits + self.kg_readout(self._knowledge_mean(batch["kg_rows"]).to(logits.dtype))
            out["logits"] = logits
            if "labels" in batch:
                if head == "sequence":
                    out["loss"] = nn.functional.cross_entropy(logits, batch["labels"], weight=self.loss_weights)
                else:
                    out["loss"] = nn.functional.binary_cross_entropy_with_logits(logits, batch["labels"].float())
        else:
            logits = self.head(h)
            allowed = batch.get("span_mask", batch["body_mask"])
            neg = torch.finfo(logits.dtype).min
            start = logits[..., 0].masked_fill(~allowed, neg)
            end = logits[..., 1].masked_fill(~allowed, neg)
            out["start_logits"], out["end_logits"] = start, end
            out["logits"] = torch.stack([start, end], dim=-1)
            if "start_positions" in batch:
                out["loss"] = (nn.functional.cross_entropy(start, batch["start_positions"])
                               + nn.functional.cross_entropy(end, batch["end_positions"])) / 2
        return out

    # ---- files -------------------------------------------------------------------------------
    def save(self, folder: str | Path, tokenizer=None, extra: dict | None = None) -> Path:
        """``config.json``, ``model.safetensors``, the tokenizer and (built with graph embeddings)
        ``kg_embeddings/``, the vectors the facts were ranked with and the embeddings path's table is made from.
        Only a table that ``kg_embeddings/`` cannot give is written apart (``kg_table.safetensors`` with
        ``kg_entities.json``, the format before 2026-11-29, which :meth:`load` still reads). ``kg_embeddings/``
        is written once per folder, not again at every checkpoint. ``extra`` lands in config.json, and
        ``graph_origin`` (the graph trained with) as its ``"graph"``."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"), metadata={"format": MARKER})
        derivable = self.kg_embeddings is not None and tuple(self.kg_embeddings.entity_ids) == self.entity_ids
        if self.config.uses_embeddings and not derivable:
            save_file({"table": self.kg_table.detach().cpu().contiguous()}, str(folder / "kg_table.safetensors"))
            (folder / "kg_entities.json").write_text(json.dumps({"ids": list(self.entity_ids)}), encoding="utf-8")
        else:  # a table left by an earlier save into this folder would shadow kg_embeddings/ at load
            (folder / "kg_table.safetensors").unlink(missing_ok=True)
            (folder / "kg_entities.json").unlink(missing_ok=True)
        saved = self._kg_saved_in
        if self.kg_embeddings is not None and not (saved and saved[0] is self.kg_embeddings
                                                   and saved[1] == folder.resolve()
                                                   and (folder / "kg_embeddings" / "meta.json").exists()):
            self.kg_embeddings.save(folder / "kg_embeddings")
            self._kg_saved_in = (self.kg_embeddings, folder.resolve())
        elif self.kg_embeddings is None and (folder / "kg_embeddings").exists():
            import shutil  # an earlier model's vectors: load would rank this model's facts with them

            shutil.rmtree(folder / "kg_embeddings")
        data = {"kgnlp": MARKER, "format": FORMAT, "fusion": self.config.as_dict(),
                "encoder": self.encoder.config.to_dict(), "extra": extra or {}}
        if self.graph_origin is not None:
            data["graph"] = self.graph_origin.as_dict()
        (folder / "config.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
        if tokenizer is not None:
            tokenizer.save_pretrained(str(folder))
        return folder

    @classmethod
    def load(cls, folder: str | Path | SavedConfig) -> "FusedModel":
        """Rebuild a saved model from its directory (no network, safetensors only); ``folder`` may be its
        config.json already read (``fusion.config.saved_config``)."""
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel

        saved = saved_config(folder)
        folder, config = saved.folder, saved.fusion
        check_weights(saved)  # a folder without its weights, or with them cut short, is named before anything is built
        try:
            enc_cfg = dict(saved.encoder)
            model_type = enc_cfg.pop("model_type")
            hf_config = AutoConfig.for_model(model_type, **enc_cfg)
        except (KeyError, TypeError, ValueError) as exc:
            raise FusionError(f"'{folder / 'config.json'}' is damaged ({type(exc).__name__}: {exc}): retrain the "
                              "model or restore its folder.") from exc
        hf_config._attn_implementation = "sdpa"  # the 4-D visibility mask goes to SDPA (~1.3x faster than eager)
        encoder = AutoModel.from_config(hf_config, add_pooling_layer=False)
        embeddings = None
        if (folder / "kg_embeddings" / "meta.json").exists():
            from kg.embeddings import KGEmbeddings

            embeddings = KGEmbeddings.load(folder / "kg_embeddings")
        table, ids = None, ()
        if config.uses_embeddings:
            if (folder / "kg_table.safetensors").exists():
                table = load_file(str(folder / "kg_table.safetensors"))["table"]
                ids = tuple(json.loads((folder / "kg_entities.json").read_text(encoding="utf-8"))["ids"])
            elif embeddings is not None:
                table, ids = kg_table(embeddings)
            else:
                raise FusionError(f"The fused model at '{folder}' uses graph embeddings but holds neither "
                                  "kg_embeddings/ nor kg_table.safetensors. Copy the whole model folder.")
        model = cls(config, encoder, table, ids)
        weights = folder / "model.safetensors"
        try:
            model.load_state_dict(load_file(str(weights)))
        except Exception as exc:  # noqa: BLE001 - safetensors' own error type, or weights of another shape
            raise weights_error(weights, _one_line(exc)) from exc
        model.kg_embeddings = embeddings
        model.graph_origin = saved.graph  # None: saved before it was recorded
        model._kg_saved_in = (embeddings, folder.resolve())
        model.eval()
        return model


def kg_table(embeddings) -> tuple[torch.Tensor, tuple[str, ...]]:
    """The embeddings path's lookup table (row 0 = no entity, then each entity's vector scaled to unit standard
    deviation over the whole table) and the entity ids of rows 1.."""
    vec = torch.as_tensor(embeddings.entity_vectors, dtype=torch.float32)
    vec = vec / (vec.std() + 1e-6)
    return torch.cat([torch.zeros(1, vec.shape[1]), vec]), tuple(embeddings.entity_ids)


def load_tokenizer(folder: str | Path):
    """The tokenizer saved in ``folder`` (a model or an encoder folder), offline; a clear error without one."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise FusionError(f"No usable tokenizer in '{folder}' (tokenizer.json, tokenizer_config.json): the folder is "
                          "incomplete; copy the whole folder again.") from exc
