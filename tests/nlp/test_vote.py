"""Majority vote over NER layers (the accurate profile's merge) and its CLI wiring."""
from __future__ import annotations

from kg.records import Mention
from nlp.ner.vote import vote_mentions, votes_needed


def M(s, e, label="Chemical", entity_id=None, score=1.0):
    return Mention(s, e, "x" * (e - s), label, entity_id, score)


def test_a_span_needs_two_of_three_layers_same_span_and_type():
    names = [M(0, 7, entity_id="mesh:1"), M(20, 28, "Disease")]
    cnn = [M(0, 7, score=0.5), M(10, 15), M(20, 28, "Chemical")]
    transformer = [M(0, 7), M(10, 15), M(30, 35)]
    out = vote_mentions([names, cnn, transformer], 2)
    assert [(m.start, m.end, m.label) for m in out] == [(0, 7, "Chemical"), (10, 15, "Chemical")]
    assert out[0].entity_id == "mesh:1" and out[0].score == round((1.0 + 0.5 + 1.0) / 3, 4)
    assert vote_mentions([names, cnn, transformer], 3) == [M(0, 7, entity_id="mesh:1", score=0.8333)]


def test_one_layer_repeating_a_span_is_one_vote_and_overlaps_go_to_more_votes():
    a = [M(0, 10), M(0, 10)]
    assert vote_mentions([a, []], 2) == []
    wide = [M(0, 10), M(0, 10), M(0, 4)]
    layers = [[wide[0]], [wide[1], M(0, 4)], [M(0, 4)], [M(0, 4)]]
    out = vote_mentions(layers, 2)
    assert [(m.start, m.end) for m in out] == [(0, 4)]  # 3 votes beat 2, although shorter


def test_weighted_vote_the_transformer_carries_a_span_alone_the_others_need_each_other():
    names = [M(0, 7, entity_id="mesh:1"), M(40, 45)]
    cnn = [M(0, 7), M(20, 28, "Disease"), M(40, 45)]
    transformer = [M(10, 15), M(20, 28, "Disease")]
    weights = [1, 1, 2]
    need = votes_needed(weights)
    assert need == 2
    out = vote_mentions([names, cnn, transformer], need, weights)
    assert [(m.start, m.end) for m in out] == [(0, 7), (10, 15), (20, 28), (40, 45)]
    assert [(m.start, m.end) for m in vote_mentions([names, cnn, transformer], 2)] == [(0, 7), (20, 28), (40, 45)]
    cnn_only = vote_mentions([[], cnn, []], need, weights)
    assert cnn_only == []  # one vote of four is not enough


def test_weighted_vote_overlaps_go_to_more_votes():
    names, cnn, transformer = [M(0, 4)], [M(0, 4)], [M(0, 10)]
    out = vote_mentions([names, cnn, transformer], 2, [1, 1, 2])
    assert [(m.start, m.end) for m in out] == [(0, 10)]  # tie on votes (2 each): the longer span
    out = vote_mentions([names, cnn, transformer], 2, [1, 1, 1.5])
    assert [(m.start, m.end) for m in out] == [(0, 4)]  # 2 votes beat 1.5 (which is not even accepted)


def test_weights_must_match_layers():
    import pytest

    with pytest.raises(ValueError):
        vote_mentions([[M(0, 1)]], 1, [1, 1])
