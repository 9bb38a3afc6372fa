"""One palette for entity types, shared by the graph page and the entity highlighter."""
from __future__ import annotations

from kg.schema import ENTITY_TYPES

OTHER = "Other"

# Strong colours for graph nodes (Tableau 10: tell-apart-able, also for most colour-blind readers).
NODE_COLORS: dict[str, str] = {
    "Chemical": "#4e79a7",
    "Disease": "#e15759",
    "Organization": "#f28e2b",
    "Person": "#59a14f",
    "Location": "#b07aa1",
    OTHER: "#8c8c8c",
}

# Light tints of the same hues: backgrounds behind highlighted text stay readable.
TINT_COLORS: dict[str, str] = {
    "Chemical": "#c6d7ea",
    "Disease": "#f6c3c4",
    "Organization": "#fbd9b5",
    "Person": "#cce5c8",
    "Location": "#e4d2e0",
    OTHER: "#e0e0e0",
}


def type_group(entity_type: str) -> str:
    """The legend group of a type: one of the built-in entity types, or ``Other``."""
    return entity_type if entity_type in ENTITY_TYPES else OTHER


def node_color(entity_type: str) -> str:
    return NODE_COLORS[type_group(entity_type)]


def tint_color(entity_type: str) -> str:
    return TINT_COLORS[type_group(entity_type)]
