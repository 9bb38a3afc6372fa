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
    rows (``(B, 1, L, L)``, 0 visible / dtype-min hidden), and a plain padding mask otherwise."""
    import torch

    width = max(len(i) for i in items)
    b = len(items)
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    pos = torch.zeros((b, width), dtype=torch.long)
    types = torch.zeros((b, width), dtype=torch.long)
    rows = torch.zeros((b, width), dtype=torch.long)
    body = torch.zeros((b, width), dtype=torch.bool)
    vis = torch.zeros((b, width, width), dtype=torch.bool)
    for r, it in enumerate(items):
        n = len(it)
        ids[r, :n] = torch.tensor(it.input_ids)
        pos[r, :n] = torch.tensor(it.position_ids)
        types[r, :n] = torch.tensor(it.token_type_ids)
        rows[r, :n] = torch.tensor(it.entity_rows)
        body[r, :n] = torch.tensor([f < 0 for f in it.fact_of])
        vis[r] = visibility(it, width, anchor_sees_fact)
    mask = torch.zeros((b, 1, width, width), dtype=torch.float32)
    mask.masked_fill_(~vis[:, None], torch.finfo(torch.float32).min)
    return {"input_ids": ids, "position_ids": pos, "token_type_ids": types, "entity_rows": rows,
            "attention_mask": mask, "body_mask": body}
