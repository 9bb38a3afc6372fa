"""nlp.render: displaCy-style entity HTML, offline, with entity ids on hover and text escaped."""
from __future__ import annotations

import re

import pytest

from kg.records import Mention
from kg.viz.colors import TINT_COLORS
from nlp.errors import NLPError
from nlp.render import render_entities_html

TEXT = "Aspirin treats headache.\nBayer <AG> makes it."


def mentions() -> list[Mention]:
    return [
        Mention(0, 7, "Aspirin", "Chemical", "chem:aspirin"),
        Mention(15, 23, "headache", "Disease", None, 0.8),
        Mention(25, 35, "Bayer <AG>", "Organization", "org:bayer"),
        Mention(0, 3, "Asp", "Chemical", "chem:asp"),  # overlaps Aspirin: dropped
    ]


def test_render_marks_each_mention_with_label_colour_and_hover_id():
    out = render_entities_html(TEXT, mentions(), page=False)
    marks = re.findall(r'<mark class="entity" title="([^"]*)" data-entity-id="([^"]*)" style="background: ([^;]+);',
                       out)
    assert marks == [
        ("Chemical: chem:aspirin", "chem:aspirin", TINT_COLORS["Chemical"]),
        ("Disease: not linked (score 0.80)", "", TINT_COLORS["Disease"]),
        ("Organization: org:bayer", "org:bayer", TINT_COLORS["Organization"]),
    ]
    assert ">Aspirin<span" in out and "Bayer &lt;AG&gt;" in out and "<AG>" not in out
    assert "<br>" in out  # newlines kept, as displaCy does


def test_render_page_is_offline_and_complete():
    page = render_entities_html(TEXT, mentions(), title="doc <1>")
    assert page.lstrip().lower().startswith("<!doctype html>") and "</html>" in page
    assert "doc &lt;1&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)


def test_render_without_mentions_is_plain_escaped_text():
    out = render_entities_html("a < b", [], page=False)
    assert "a &lt; b" in out and "<mark" not in out


def test_render_rejects_offsets_outside_the_text():
    with pytest.raises(NLPError, match="outside the text"):
        render_entities_html("short", [Mention(2, 40, "x", "Chemical")])
