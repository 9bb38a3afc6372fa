"""Token layout of one fused input (pure Python, no torch): ids, soft positions, visibility, entity rows.

K-BERT layout: each fact's tokens sit right after the last token of its anchor mention; their position ids
continue from that token (``p+1, p+2, ...``) while body tokens keep the positions they would have without
facts. Visibility: body tokens see body tokens; a fact's tokens see themselves and their anchor's tokens;
the anchor's tokens also see the fact. Facts anchored to the whole input (-1) hang off [CLS].
Concat layout: ``[CLS] body [SEP] fact ; fact [SEP]`` with ordinary positions and full attention.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from itertools import groupby
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
    kg_rows: tuple[int, ...] = ()  # KG table rows the model's readout averages (FusionConfig.kg_readout)

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
    fact_share: float = 0.0,
    truncation_side: str = "right",
) -> FusedInput:
    """Lay out ``[CLS] seg0 [SEP] seg1 [SEP] ...`` (body truncated to ``max_length``) plus facts.

    A segment that does not fit loses tokens at its end (``truncation_side="right"``) or its start (``left``).

    ``fact_ids[s][f]`` are the token ids of fact ``f`` of segment ``s`` (tokenised by the caller).
    ``entity_row`` maps entity ids to rows of the KG table (rows start at 1; 0 means no vector).
    Facts get at most ``fact_budget`` tokens together and, with ``fact_share`` > 0, at most that share of the
    body's tokens (a bound on the extra encoder work for short inputs).
    """
    room = max_length - 1 - len(segments)
    lengths = _fit([len(s.ids) for s in segments], room)
    if truncation_side == "left":
        segments = [kept_tail(s, n) for s, n in zip(segments, lengths)]
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
        if fact_share > 0:
            fact_budget = min(fact_budget, int(fact_share * sum(lengths)))
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


def kept_tail(seg: Segment, n: int) -> Segment:
    """``seg`` with only its last ``n`` tokens (offsets still index the original text)."""
    cut = len(seg.ids) - n
    return seg if cut <= 0 else Segment(seg.ids[cut:], seg.offsets[cut:], seg.context)


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
    find = _Overlaps(seg.offsets[:n])
    for m in seg.context.mentions:
        row = entity_row.get(m.entity_id or "")
        if not row:
            continue
        for t in find(m.start, m.end):
            rows[t] = row
    return rows


def _overlap(offsets: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    return [i for i, (s, e) in enumerate(offsets) if s < end and e > start and e > s]


class _Overlaps:
    """``_overlap(offsets, start, end)`` for many spans: by bisection when the offsets are in order (as a
    tokenizer gives them), else by the plain scan. Same token indices either way."""

    def __init__(self, offsets: Sequence[tuple[int, int]]) -> None:
        self.offsets = offsets
        self.starts = [s for s, _ in offsets]
        self.ends = [e for _, e in offsets]
        self.ordered = self.starts == sorted(self.starts) and self.ends == sorted(self.ends)

    def __call__(self, start: int, end: int) -> list[int]:
        if not self.ordered:
            return _overlap(self.offsets, start, end)
        lo = bisect_right(self.ends, start)  # from here on e > start
        hi = bisect_left(self.starts, end)  # before this s < end
        return [i for i in range(lo, hi) if self.ends[i] > self.starts[i]]


def _attachments(segments, lengths, seg_tokens, fact_ids, max_fact_tokens, max_facts, budget):
    """``(anchor token indices, fact token ids, segment type)`` for every fact that fits."""
    out = []
    for s_i, (seg, n) in enumerate(zip(segments, lengths)):
        if seg.context is None or s_i >= len(fact_ids):
            continue
        find = None
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
                find = find or _Overlaps(seg.offsets[:n])
                local = find(m.start, m.end)
                if not local:  # mention truncated away
                    continue
                anchor = [seg_tokens[s_i][t] for t in local]
            budget -= len(toks)
            out.append((anchor, toks, min(s_i, 1)))
    return out


def _kbert(ids, types, rows, body, attach) -> FusedInput:
    """Insert each fact after its anchor's last token; body positions are unchanged (soft positions).

    Copies the body in slices between insertion points (no per-token loop)."""
    after: dict[int, list[int]] = {}
    for f, (anchor, _, _) in enumerate(attach):
        after.setdefault(max(anchor), []).append(f)
    n = len(ids)
    new_ids, new_pos, new_types, new_rows, fact_of = [], [], [], [], []
    where = list(range(n))  # original token -> its index in the new layout
    prev = shift = 0
    for t in sorted(after) + [n - 1]:
        if t >= prev:
            new_ids.extend(ids[prev:t + 1]); new_pos.extend(range(prev, t + 1)); new_types.extend(types[prev:t + 1])
            new_rows.extend(rows[prev:t + 1]); fact_of.extend([-1] * (t + 1 - prev))
            if shift:
                where[prev:t + 1] = range(prev + shift, t + 1 + shift)
            prev = t + 1
        for f in after.pop(t, ()):
            _, toks, seg_type = attach[f]
            k = len(toks)
            new_ids.extend(toks); new_pos.extend(range(t + 1, t + 1 + k)); new_types.extend([seg_type] * k)
            new_rows.extend([0] * k); fact_of.extend([f] * k)
            shift += k
    anchors = tuple(tuple(where[t] for t in a) for a, _, _ in attach)
    new_body = tuple(tuple(where[t] for t in seg) for seg in body)
    return FusedInput(tuple(new_ids), tuple(new_pos), tuple(new_types), tuple(fact_of), anchors, tuple(new_rows),
                      new_body, kbert=True)


def knowledge_units(item: FusedInput) -> list[set[int]]:
    """The token sets that carry one piece of knowledge: a linked mention (a run of tokens with the same
    entity row, and the anchor of its facts) or a fact's anchor alone (a mention without a vector, or [CLS]
    for facts about the whole input). Overlapping sets are merged, so a mention is one unit."""
    rows = item.entity_rows  # fact tokens have row 0, so runs are body tokens
    units = [set(run) for row, run in groupby(range(len(rows)), key=rows.__getitem__) if row]
    if item.kbert:
        units.extend(set(a) for a in item.anchors if a)
    merged: list[set[int]] = []
    for unit in units:
        for other in [m for m in merged if m & unit]:
            unit |= other
            merged.remove(other)
        merged.append(unit)
    return merged


def hide_knowledge(item: FusedInput, share: float, rng) -> FusedInput:
    """``item`` with the knowledge of about ``share`` of its :func:`knowledge_units` hidden, for training (as
    ERNIE's denoising masks token–entity alignments): the unit's tokens lose their entity vector, and the
    facts anchored in it are cut off from the body (no body token sees them, so the body reads as if they
    were not there; their tokens stay, so token positions and labels do not move). Concatenated facts
    (``kbert=False``) see everything and are kept; their mentions still lose the vector. The readout's
    ``kg_rows`` each drop out at the same share."""
    if share <= 0:
        return item
    hidden: set[int] = set()
    for unit in knowledge_units(item):
        if rng.random() < share:
            hidden |= unit
    kept = tuple(r for r in item.kg_rows if rng.random() >= share)  # the readout's rows, hidden at the same share
    if not hidden and len(kept) == len(item.kg_rows):
        return item
    rows = tuple(0 if t in hidden else r for t, r in enumerate(item.entity_rows))
    anchors = tuple(() if item.kbert and set(a) & hidden else a for a in item.anchors)
    return replace(item, entity_rows=rows, anchors=anchors, kg_rows=kept)
