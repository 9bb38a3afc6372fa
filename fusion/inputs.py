"""Token layout of one fused input (pure Python, no torch): ids, soft positions, visibility, entity rows.

K-BERT layout: each fact's tokens sit right after the last token of its anchor mention; their position ids
continue from that token (``p+1, p+2, ...``) while body tokens keep the positions they would have without
facts. Visibility: body tokens see body tokens; a fact's tokens see themselves and their anchor's tokens;
the anchor's tokens also see the fact. Facts anchored to the whole input (-1) hang off [CLS].
Concat layout: ``[CLS] body [SEP] fact ; fact [SEP]`` with ordinary positions and full attention.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from fusion.context import KGContext


@dataclass(frozen=True)
class Segment:
    """One tokenised text of the input (a sentence, or question / context) with its knowledge."""

    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    context: KGContext | None = None


@dataclass(frozen=True)
class FusedInput:
    """One model input. ``fact_of[t]`` is -1 for body tokens, else the fact index; ``anchors[f]`` are the
    token indices fact ``f`` is attached to; ``body[s][i]`` is where token ``i`` of segment ``s`` landed."""

    input_ids: tuple[int, ...]
    position_ids: tuple[int, ...]
    token_type_ids: tuple[int, ...]
    fact_of: tuple[int, ...]
    anchors: tuple[tuple[int, ...], ...]
    entity_rows: tuple[int, ...]
    body: tuple[tuple[int, ...], ...]
    kbert: bool = True
    extra: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass(frozen=True)
class Specials:
    cls: int
    sep: int
    pad: int

    @classmethod
    def of(cls, tokenizer) -> "Specials":
        return cls(tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id or 0)


def tokenise(tokenizer, text: str) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Subword ids and character offsets of ``text`` without special tokens or truncation."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
    return tuple(enc["input_ids"]), tuple(tuple(o) for o in enc["offset_mapping"])


def assemble(
    segments: Sequence[Segment],
    specials: Specials,
    fact_ids: Sequence[Sequence[Sequence[int]]] = (),
    *,
    max_length: int = 128,
    use_facts: bool = False,
    kbert: bool = True,
    entity_row: dict[str, int] | None = None,
    max_fact_tokens: int = 16,
    max_facts: int = 4,
    fact_budget: int = 64,
) -> FusedInput:
    """Lay out ``[CLS] seg0 [SEP] seg1 [SEP] ...`` (body truncated to ``max_length``) plus facts.

    ``fact_ids[s][f]`` are the token ids of fact ``f`` of segment ``s`` (tokenised by the caller).
    ``entity_row`` maps entity ids to rows of the KG table (rows start at 1; 0 means no vector).
    """
    room = max_length - 1 - len(segments)
    lengths = _fit([len(s.ids) for s in segments], room)
    ids: list[int] = [specials.cls]
    types: list[int] = [0]
    rows: list[int] = [0]
    body: list[tuple[int, ...]] = []
    seg_tokens: list[list[int]] = []  # body token indices per segment (without specials)
    for s_i, (seg, n) in enumerate(zip(segments, lengths)):
        start = len(ids)
        ids.extend(seg.ids[:n])
        types.extend([min(s_i, 1)] * n)
        rows.extend(_rows(seg, n, entity_row))
        body.append(tuple(range(start, start + n)))
        seg_tokens.append(list(range(start, start + n)))
        ids.append(specials.sep)
        types.append(min(s_i, 1))
        rows.append(0)
    n_body = len(ids)
    positions = list(range(n_body))
    fact_of = [-1] * n_body
    anchors: list[tuple[int, ...]] = []
    if use_facts and fact_ids:
        attach = _attachments(segments, lengths, seg_tokens, fact_ids, max_fact_tokens, max_facts, fact_budget)
        if kbert:
            return _kbert(ids, types, rows, body, attach)
        for f, (anchor_tokens, toks, seg_type) in enumerate(attach):
            ids.extend(toks)
            ids.append(specials.sep)
            types.extend([1] * (len(toks) + 1))
            rows.extend([0] * (len(toks) + 1))
            anchors.append(tuple(anchor_tokens))
        positions = list(range(len(ids)))
        fact_of = fact_of + [-1] * (len(ids) - n_body)  # concat: every token is body (full attention)
    return FusedInput(tuple(ids), tuple(positions), tuple(types), tuple(fact_of), tuple(anchors), tuple(rows),
                      tuple(body), kbert=kbert)


def _fit(lengths: list[int], room: int) -> list[int]:
    """Truncate the longest segment first until the lengths fit ``room``."""
    out = list(lengths)
    while sum(out) > room and max(out) > 0:
        out[out.index(max(out))] -= 1
    return out


def _rows(seg: Segment, n: int, entity_row: dict[str, int] | None) -> list[int]:
    rows = [0] * n
    if not entity_row or seg.context is None:
        return rows
    for m in seg.context.mentions:
        row = entity_row.get(m.entity_id or "")
        if not row:
            continue
        for t in _overlap(seg.offsets[:n], m.start, m.end):
            rows[t] = row
    return rows


def _overlap(offsets: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    return [i for i, (s, e) in enumerate(offsets) if s < end and e > start and e > s]


def _attachments(segments, lengths, seg_tokens, fact_ids, max_fact_tokens, max_facts, budget):
    """``(anchor token indices, fact token ids, segment type)`` for every fact that fits."""
    out = []
    for s_i, (seg, n) in enumerate(zip(segments, lengths)):
        if seg.context is None or s_i >= len(fact_ids):
            continue
        for f_i, fact in enumerate(seg.context.facts):
            if len(out) >= max_facts or f_i >= len(fact_ids[s_i]):
                break
            toks = list(fact_ids[s_i][f_i])[:max_fact_tokens]
            if not toks or len(toks) > budget:
                continue
            if fact.anchor < 0:
                anchor = [0]
            else:
                m = seg.context.mentions[fact.anchor]
                local = _overlap(seg.offsets[:n], m.start, m.end)
                if not local:  # mention truncated away
                    continue
                anchor = [seg_tokens[s_i][t] for t in local]
            budget -= len(toks)
            out.append((anchor, toks, min(s_i, 1)))
    return out


def _kbert(ids, types, rows, body, attach) -> FusedInput:
    """Insert each fact after its anchor's last token; body positions are unchanged (soft positions)."""
    after: dict[int, list[int]] = {}
    for f, (anchor, _, _) in enumerate(attach):
        after.setdefault(max(anchor), []).append(f)
    new_ids, new_pos, new_types, new_rows, fact_of = [], [], [], [], []
    where: dict[int, int] = {}
    for t in range(len(ids)):
        where[t] = len(new_ids)
        new_ids.append(ids[t]); new_pos.append(t); new_types.append(types[t]); new_rows.append(rows[t])
        fact_of.append(-1)
        for f in after.get(t, ()):
            _, toks, seg_type = attach[f]
            for k, tok in enumerate(toks):
                new_ids.append(tok); new_pos.append(t + 1 + k); new_types.append(seg_type); new_rows.append(0)
                fact_of.append(f)
    anchors = tuple(tuple(where[t] for t in a) for a, _, _ in attach)
    new_body = tuple(tuple(where[t] for t in seg) for seg in body)
    return FusedInput(tuple(new_ids), tuple(new_pos), tuple(new_types), tuple(fact_of), anchors, tuple(new_rows),
                      new_body, kbert=True)
