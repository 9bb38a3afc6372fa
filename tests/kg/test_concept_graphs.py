"""What every hand-written concept graph under data/ must hold: one owner per name, and its own schema."""
from __future__ import annotations

import pytest

from kg.errors import KGError
from kg.names import normalise
from kg.schema import load_schema
from kg.seed import read_seed
from tests.conftest import DATA

GRAPHS = ("finance", "findings")


@pytest.mark.parametrize("folder", GRAPHS)
def test_names_are_unique_across_concepts(folder):
    graph = read_seed(DATA / folder, load_schema(DATA / folder / "schema.toml"))
    owner: dict[str, str] = {}
    for ent in graph.entities:
        for name in (ent.name, *ent.aliases):
            key = normalise(name)
            assert owner.setdefault(key, ent.id) == ent.id, f"{name!r} names {owner[key]} and {ent.id}"


@pytest.mark.parametrize("folder", GRAPHS)
def test_needs_its_schema(folder):
    with pytest.raises(KGError, match="Unknown relation"):
        read_seed(DATA / folder)
