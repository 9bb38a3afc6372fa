"""Collate :class:`FusedInput` rows into tensors: dynamic padding and the K-BERT visibility mask."""
from __future__ import annotations

from typing import Sequence

from fusion.inputs import FusedInput


def visibility(item: FusedInput, width: int, anchor_sees_fact: bool = True):
    """``(width, width)`` bool matrix, ``[i, j]`` = token ``i`` may attend to token ``j``.

    Body tokens see body tokens; fact tokens see their own fact and its anchor; the anchor sees its facts
    (``anchor_sees_fact=False`` cuts that last link: then body outputs equal those without facts exactly,
    which the tests use to check the mask and the soft positions). Padding sees and is seen by nothing
    except itself (a row of all -inf would give NaN).
    """
    import torch

    n = len(item)
    fact_of = torch.tensor(item.fact_of, dtype=torch.long)
    vis = torch.zeros((width, width), dtype=torch.bool)
    body = fact_of < 0
    vis[:n, :n] = body[:, None] & body[None, :]
    if item.anchors:
        same = (fact_of[:, None] == fact_of[None, :]) & ~body[:, None]
        vis[:n, :n] |= same
        for f, anchor in enumerate(item.anchors):
            toks = torch.nonzero(fact_of == f).flatten()
            a = torch.tensor(anchor, dtype=torch.long)
            vis[toks[:, None], a[None, :]] = True
            if anchor_sees_fact:
                vis[a[:, None], toks[None, :]] = True
    idx = torch.arange(n, width)
    vis[idx, idx] = True
    return vis


def collate(items: Sequence[FusedInput], pad_id: int = 0, anchor_sees_fact: bool = True) -> dict:
    """Tensors padded to the longest row of the batch; ``attention_mask`` is a 4-D additive mask for K-BERT
    rows (``(B, 1, L, L)``, 0 visible / dtype-min hidden), and a plain padding mask otherwise.

    Built with numpy array ops (:func:`batch_visibility`; equal to :func:`visibility` row by row): no per-token
    Python loop, and no torch intra-op threads, whose start-up costs more than these small ops."""
    import numpy as np
    import torch

    width = max(len(i) for i in items)
    pads = [width - len(it) for it in items]

    def padded(rows, fill):
        return np.array([list(r) + [fill] * p for r, p in zip(rows, pads)], dtype=np.int64).reshape(len(pads), width)

    fact_of = padded((it.fact_of for it in items), _PAD)
    vis = batch_visibility(fact_of, [it.anchors for it in items], anchor_sees_fact)
    mask = np.where(vis[:, None], np.float32(0.0), np.finfo(np.float32).min).astype(np.float32, copy=False)
    return {"input_ids": torch.from_numpy(padded((it.input_ids for it in items), pad_id)),
            "position_ids": torch.from_numpy(padded((it.position_ids for it in items), 0)),
            "token_type_ids": torch.from_numpy(padded((it.token_type_ids for it in items), 0)),
            "entity_rows": torch.from_numpy(padded((it.entity_rows for it in items), 0)),
            "attention_mask": torch.from_numpy(mask), "body_mask": torch.from_numpy(fact_of == -1),
            "kg_rows": torch.from_numpy(_kg_rows(items))}


def _kg_rows(items: Sequence[FusedInput]):
    """``(B, K)`` KG table rows per input for the readout, padded with 0 (no vector); K >= 1."""
    import numpy as np

    k = max(1, max(len(it.kg_rows) for it in items))
    return np.array([list(it.kg_rows) + [0] * (k - len(it.kg_rows)) for it in items], dtype=np.int64)


_PAD = -2  # fact_of of padding in a batch


def batch_visibility(fact_of, anchors: Sequence[Sequence[Sequence[int]]], anchor_sees_fact: bool = True):
    """``(B, L, L)`` bool visibility (numpy) of a padded batch: ``fact_of`` is ``(B, L)`` (-1 body, f >= 0
    fact f, -2 padding) and ``anchors[r][f]`` the anchor token indices of fact ``f`` of row ``r``."""
    import numpy as np

    fact_of = np.asarray(fact_of)
    b, width = fact_of.shape
    body = fact_of == -1
    vis = body[:, :, None] & body[:, None, :]
    n_facts = max((len(a) for a in anchors), default=0)
    if n_facts:
        fact = fact_of >= 0
        vis |= (fact_of[:, :, None] == fact_of[:, None, :]) & fact[:, :, None]
        # anchor[r, f, t]: token t of row r is an anchor of fact f
        anchor = np.zeros((b, n_facts, width), dtype=bool)
        for r, row in enumerate(anchors):
            for f, toks in enumerate(row):
                anchor[r, f, list(toks)] = True
        # links[r, i, j]: i is a token of a fact that j anchors (a fact has one index, so this is a gather)
        links = np.take_along_axis(anchor, np.where(fact, fact_of, 0)[:, :, None], axis=1) & fact[:, :, None]
        vis |= links
        if anchor_sees_fact:
            vis |= links.transpose(0, 2, 1)
    pad = np.nonzero(fact_of == _PAD)
    vis[pad[0], pad[1], pad[1]] = True
    return vis
