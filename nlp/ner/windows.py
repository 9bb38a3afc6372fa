"""Windowing of long token sequences with stride, and word-level BIO labels from character spans.

Pure functions (no torch): the transformer layer and its trainer share them, and tests check them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


def bio_types(tags: Sequence[str]) -> tuple[str, ...]:
    """The entity types of BIO tags, sorted: ``("O", "B-Chemical", "I-Chemical")`` -> ``("Chemical",)``."""
    return tuple(sorted({tag[2:] for tag in tags if tag != "O"}))


@dataclass(frozen=True)
class Encoded:
    """A text as subword tokens: ids, character offsets, and the word each token belongs to."""

    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    words: tuple[int, ...]  # word index per token

    def word_spans(self) -> list[tuple[int, int, int]]:
        """``(first_token, start_char, end_char)`` per word, in order."""
        spans: dict[int, list[int]] = {}
        for tok, w in enumerate(self.words):
            s, e = self.offsets[tok]
            if w not in spans:
                spans[w] = [tok, s, e]
            else:
                spans[w][1] = min(spans[w][1], s)
                spans[w][2] = max(spans[w][2], e)
        return [tuple(v) for _, v in sorted(spans.items())]


def encode(tokenizer, text: str) -> Encoded:
    """Tokenise without special tokens or truncation; drop tokens with empty offsets."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                    verbose=False)
    words = enc.word_ids()
    keep = [i for i, (s, e) in enumerate(enc["offset_mapping"]) if e > s and words[i] is not None]
    return Encoded(tuple(enc["input_ids"][i] for i in keep),
                   tuple(tuple(enc["offset_mapping"][i]) for i in keep),
                   tuple(words[i] for i in keep))


def windows(n_tokens: int, size: int, stride: int) -> list[tuple[int, int]]:
    """``(start, end)`` token windows of at most ``size`` covering ``n_tokens``; consecutive windows overlap
    by ``stride`` tokens so every token has context on both sides in some window."""
    if size <= 0:
        raise ValueError("window size must be positive")
    stride = max(0, min(stride, size // 2))
    out: list[tuple[int, int]] = []
    start = 0
    while start < n_tokens:
        end = min(start + size, n_tokens)
        out.append((start, end))
        if end == n_tokens:
            break
        start = end - stride
    return out


def best_window(n_tokens: int, spans: Sequence[tuple[int, int]]) -> list[int]:
    """For each token, the index of the window where it sits furthest from an edge."""
    best = [0] * n_tokens
    margin = [-1] * n_tokens
    for w, (s, e) in enumerate(spans):
        for t in range(s, e):
            m = min(t - s, e - 1 - t)
            if m > margin[t]:
                margin[t], best[t] = m, w
    return best


def word_tags(enc: Encoded, mentions: Sequence[tuple[int, int, str]]) -> list[str]:
    """IOB2 tag per word: a word inside a gold span is B- when it is the span's first word, else I-."""
    tags = []
    ordered = sorted(mentions)
    for _, ws, we in enc.word_spans():
        tag = "O"
        for ms, me, label in ordered:
            if ws < me and we > ms:
                tag = ("B-" if ws <= ms or not tags or not tags[-1].endswith(label) else "I-") + label
                break
        tags.append(tag)
    return tags


def decode_words(enc: Encoded, tags: Sequence[str], scores: Sequence[float] | None = None,
                 merge_adjacent: bool = False) -> list[tuple[int, int, str, float]]:
    """``(start_char, end_char, label, score)`` from word tags; a stray I- starts an entity.
    With ``merge_adjacent`` (IO decoding), a B- right after a word of the same type continues it."""
    words = enc.word_spans()
    out: list[tuple[int, int, str, float]] = []
    cur: list | None = None
    for i, ((_, ws, we), tag) in enumerate(zip(words, tags)):
        prefix, _, label = tag.partition("-")
        sc = scores[i] if scores is not None else 1.0
        if cur is not None and cur[2] == label and (prefix == "I" or (merge_adjacent and prefix == "B")):
            cur[1] = we
            cur[3] = min(cur[3], sc)
            continue
        if cur is not None:
            out.append(tuple(cur))
            cur = None
        if prefix in ("B", "I"):
            cur = [ws, we, label, sc]
    if cur is not None:
        out.append(tuple(cur))
    return out
