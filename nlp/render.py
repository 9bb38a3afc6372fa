"""displaCy-style HTML for entity mentions (``kgnlp ner --html``), offline, ids shown on hover."""
from __future__ import annotations

import html
from typing import Sequence

from kg.records import Mention
from kg.viz.colors import tint_color
from nlp.errors import NLPError

# displaCy's own entity markup, plus a tooltip (title) with the linked entity id and the score.
_TEMPLATE = (
    '<mark class="entity" title="{tip}" data-entity-id="{entity_id}" style="background: {bg}; padding: 0.45em 0.6em;'
    ' margin: 0 0.25em; line-height: 1; border-radius: 0.35em;">{text}<span style="font-size: 0.8em;'
    ' font-weight: bold; line-height: 1; border-radius: 0.35em; vertical-align: middle; margin-left: 0.5rem">'
    "{label}</span></mark>"
)


def render_entities_html(text: str, mentions: Sequence[Mention], title: str | None = None, page: bool = True) -> str:
    """Highlight ``mentions`` in ``text`` the way displaCy does; hovering a mention shows its entity id.

    Overlapping mentions keep the earliest (then longest) one, as displaCy cannot nest marks.
    ``page=False`` returns only the ``<div>`` for embedding into another page.

    >>> render_entities_html("Aspirin treats headache.", [Mention(0, 7, "Aspirin", "Chemical", "chem:aspirin")])  # doctest: +SKIP
    """
    from spacy import displacy  # heavy: only when HTML is asked for

    spans = []
    last_end = 0
    for m in sorted(mentions, key=lambda m: (m.start, -(m.end - m.start))):
        if not (0 <= m.start < m.end <= len(text)):
            raise NLPError(f"Mention {m.text!r} has offsets {m.start}..{m.end} outside the text (length "
                           f"{len(text)}). Offsets are characters into the text, end exclusive.")
        if m.start < last_end:
            continue
        last_end = m.end
        entity_id = m.entity_id or ""
        tip = f"{m.label}: {entity_id or 'not linked'}" + (f" (score {m.score:.2f})" if m.score < 1.0 else "")
        spans.append({
            "start": m.start, "end": m.end, "label": html.escape(m.label),
            "params": {"tip": html.escape(tip), "entity_id": html.escape(entity_id), "bg": tint_color(m.label)},
        })
    doc = {"text": text, "ents": spans, "title": html.escape(title) if title else None}
    return displacy.render(doc, style="ent", manual=True, page=page, jupyter=False,
                           options={"template": _TEMPLATE})
