"""The same sequence of writes on every backend leaves the same graph: entities (name, type, aliases, external ids),
facts (confidence, sources with their own confidence), pinned entities, seed records, documents and mentions. The
embedded store is the reference; each step is compared, so a divergence names the step that made it."""
from __future__ import annotations

import io
from dataclasses import replace
from typing import Callable, Iterable

import pytest

from kg.export import export, import_rdf
from kg.migrate import migrate
from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple
from kg.store import GraphStore
from tests.kg.conftest import load_cypher

ASPIRIN = Entity("drug:aspirin", "Aspirin", "Drug", ("ASA", "acetylsalicylic acid"), (("mesh", "D001241"),))
HEADACHE = Entity("disease:headache", "Headache", "Disease", ("cephalalgia",))
BAYER = Entity("org:bayer", "Bayer AG", "Company", ("Bayer Pharma",))
IBU = Entity("drug:ibuprofen", "Ibuprofen", "Drug", ("brufen",))
FEVER = Entity("disease:fever", "Fever", "Disease", ("pyrexia",))
MIGRAINE = Entity("disease:migraine", "Migraine", "Disease", ("hemicrania",))
NAUSEA = Entity("disease:nausea", "Nausea", "Disease")


# names looked up besides those the writes give (keys that only part of a name holds)
LOOKUPS = ("aspirin", "asa", "bayer", "bayer pharma", "brufen", "pyrexia", "hemicrania", "advil", "headache")


class Recording:
    """A store whose writes note every name and alias they give (in ``given``), so a snapshot can look each one
    up, names a store did not take included; everything else passes through."""

    def __init__(self, store: GraphStore, given: set[str]) -> None:
        self._store, self.given = store, given

    def __getattr__(self, attr: str) -> object:
        method = getattr(self._store, attr)
        if not callable(method):
            return method

        def call(*args: object, **kwargs: object) -> object:
            for value in (*args, *kwargs.values()):
                items = value.entities if isinstance(value, Extraction) else value if isinstance(value, list) else ()
                self.given.update(n for e in items if isinstance(e, Entity) for n in (e.name, *e.aliases))
            return method(*args, **kwargs)

        return call


def snapshot(store: GraphStore, given: Iterable[str] = ()) -> dict[str, object]:
    """Everything a backend should agree on, in one comparable value; ``given``: the names the writes gave, each
    looked up (with ``LOOKUPS``)."""
    return {
        "entities": sorted((e.id, e.name, e.type, tuple(sorted(e.aliases)), tuple(sorted(e.external_ids)))
                           for e in store.entities()),
        "facts": sorted((t.key, round(t.confidence, 6), tuple(sorted(
            (p.doc_id, p.start, p.end, p.sentence, p.extractor, p.confidence and round(p.confidence, 6))
            for p in t.provenance))) for t in store.triples()),
        "pinned": sorted(store.pinned_ids(seeds=False)),
        "seedings": sorted(store.seedings()),
        "documents": store.document_sources(),
        "mentions": sorted((x.document.id, sha, x.document.text, x.mentions) for x, sha in store.extractions()),
        "stats": store.stats(),
        "found": {n: [e.id for e in store.find_entities(n)] for n in sorted({*LOOKUPS, *given})},
    }


def ext(doc: str, text: str, triples: tuple[Triple, ...], entities: tuple[Entity, ...],
        mentions: tuple[Mention, ...] = ()) -> Extraction:
    return Extraction(Document(doc, text, f"{doc}.txt"), mentions, triples, entities)


def sent(doc: str, start: int, conf: float | None = None) -> Provenance:
    return Provenance(doc, start, start + 10, f"{doc} sentence {start}", "pattern", conf)


def line(n: int, source: str = "seed:s") -> Provenance:
    return Provenance(source, n, n, f"line {n}", "seed")


TREATS = (ASPIRIN.id, "TREATS", HEADACHE.id)
MAKES = (BAYER.id, "MANUFACTURES", ASPIRIN.id)
IBU_FEVER = (IBU.id, "TREATS", FEVER.id)

STEPS: list[tuple[str, Callable[[GraphStore], object]]] = [
    ("import entities", lambda s: s.add([], [BAYER, NAUSEA])),
    ("seed", lambda s: s.replace_source("seed:s", [Triple(*TREATS, 1.0, (line(1),)),
                                                   Triple(ASPIRIN.id, "TREATS", MIGRAINE.id, 1.0, (line(2),))],
                                        [ASPIRIN, HEADACHE, MIGRAINE, replace(BAYER, aliases=("Bayer",))])),
    ("ingest doc-a", lambda s: s.add_extraction(ext(
        "doc-a", "Aspirin treats headache. Bayer makes aspirin.",
        (Triple(*TREATS, 0.8, (sent("doc-a", 0),)), Triple(*MAKES, 0.7, (sent("doc-a", 25),))),
        (ASPIRIN, HEADACHE, replace(BAYER, aliases=("Bayer",))),
        (Mention(0, 7, "Aspirin", "DRUG", ASPIRIN.id), Mention(25, 30, "Bayer", "ORG", BAYER.id))), "ha1")),
    ("ingest doc-b", lambda s: s.add_extraction(ext(
        "doc-b", "Ibuprofen treats fever.",
        (Triple(*IBU_FEVER, 0.6, (sent("doc-b", 0),)), Triple(*MAKES, 0.9, (sent("doc-b", 30),))),
        (IBU, FEVER), (Mention(0, 9, "Ibuprofen", "DRUG", IBU.id), Mention(17, 22, "fever", "DISEASE", FEVER.id))),
        "hb1")),
    ("write again under other names", lambda s: s.add([], [  # not a rename: the first name stays, and no key of
        replace(FEVER, name="Febrile illness", aliases=()), replace(NAUSEA, name="Queasiness")], pinned=False)),  # them
    ("edit doc-a", lambda s: s.add_extraction(ext(
        "doc-a", "Aspirin treats fever.", (Triple(ASPIRIN.id, "TREATS", FEVER.id, 0.5, (sent("doc-a", 0),)),),
        (ASPIRIN, replace(FEVER, aliases=("febris",))), (Mention(0, 7, "Aspirin", "DRUG", ASPIRIN.id),)), "ha2")),
    ("edit seed", lambda s: s.replace_source("seed:s", [Triple(*MAKES, 1.0, (line(1),))], [
        replace(ASPIRIN, name="Acetylsalicylic acid", type="Chemical", aliases=("aspirin tablet",)),
        replace(BAYER, aliases=()), replace(IBU, aliases=("Advil",))])),
    ("remove doc-b", lambda s: s.remove_document("doc-b")),
    ("second seed", lambda s: s.replace_source("seed:t", [], [replace(IBU, aliases=("Advil", "Nurofen"))])),
    ("bulk import", lambda s: s.bulk_load([IBU_FEVER, TREATS, (NAUSEA.id, "SIDE_EFFECT_OF", IBU.id)], [
        replace(ASPIRIN, external_ids=(("mesh", "D999999"), ("drugbank", "DB00945"))),
        replace(IBU, aliases=("Advil",)), FEVER], source="hetionet")),
    ("add a file's facts", lambda s: s.add([Triple(*TREATS, 0.4, (Provenance("import:g.ttl", 0, 0, "", "import"),)),
                                           Triple(*IBU_FEVER, 0.3, (sent("import:g.ttl", 3, 0.2),))],
                                          [replace(HEADACHE, aliases=("head pain",))])),
    ("rename by add", lambda s: s.add([], [replace(HEADACHE, name="Cephalgia", type="Symptom", aliases=())],
                                      pinned=False, override=True)),
    ("edit seed again", lambda s: s.replace_source("seed:s", [], [replace(IBU, aliases=())])),
    ("drop the import", lambda s: s.replace_source("hetionet", [])),
    ("drop the second seed", lambda s: s.replace_source("seed:t", [])),
]

# facts whose ends no source describes (stub ends), an entity described after its facts, sources that share facts
EDGES: list[tuple[str, Callable[[GraphStore], object]]] = [
    ("facts with undescribed ends", lambda s: s.add([Triple("x:a", "LINKS", "x:b", 0.5, (sent("d1", 0),)),
                                                    Triple("x:b", "LINKS", ASPIRIN.id, 0.6)])),
    ("a document about them", lambda s: s.add_extraction(ext(
        "doc-x", "A links B.", (Triple("x:a", "LINKS", "x:b", 0.9, (sent("doc-x", 0),)),),
        (Entity("x:a", "A", "Thing", ("alpha",)),), (Mention(0, 1, "A", "THING", "x:a"),
                                                      Mention(8, 9, "B", "THING", "x:b"))), "hx")),
    ("an end described later", lambda s: s.add([], [Entity("x:b", "B", "Thing")], pinned=False)),
    ("a seed lists one", lambda s: s.replace_source("seed:s", [Triple("x:a", "LINKS", "x:c", 1.0, (line(1),))],
                                                    [Entity("x:a", "A prime", "Other", ("alpha",))])),
    ("import the seed's fact", lambda s: s.bulk_load([("x:a", "LINKS", "x:c"), ("x:c", "LINKS", "x:d")],
                                                     source="import:csv")),
    ("the document goes", lambda s: s.remove_document("doc-x")),
    ("the seed goes", lambda s: s.replace_source("seed:s", [], [])),
    ("the first source goes", lambda s: s.replace_source("d1", [])),
    ("the import goes", lambda s: s.replace_source("import:csv", [])),
    ("re-add a fact", lambda s: s.add([Triple("x:a", "LINKS", "x:b", 0.3, (sent("d2", 0, 0.25),))])),
]


@pytest.mark.parametrize("steps", [STEPS, EDGES], ids=["sources", "stub ends"])
@pytest.mark.parametrize("kind", ["rdf", "neo4j"])
def test_store_the_same_writes_leave_the_same_graph_as_the_embedded_store(kind, steps, make_store):
    given: set[str] = set()
    reference, other = Recording(make_store("embedded"), given), make_store(kind)
    for name, step in steps:
        assert step(other) == step(reference), name
        assert snapshot(other, given) == snapshot(reference, given), name


@pytest.mark.parametrize("kind", ["embedded", "rdf", "neo4j"])
def test_store_a_copy_and_an_export_read_back_are_the_graph_of_each_backend(kind, make_store):
    """`migrate` from a backend into an embedded store, and its turtle export imported into one, give the graph the
    backend holds (an export has no documents or mentions and is read as an import: what documents alone hold
    arrives unpinned, the rest pinned, without seed records)."""
    given: set[str] = set()
    source = make_store(kind)
    for _, step in STEPS[:-2]:
        step(Recording(source, given))
    copy = make_store("embedded")
    migrate(source, copy)
    assert snapshot(copy, given) == snapshot(source, given)
    out = io.StringIO()
    export(source, "turtle", out)
    imported = make_store("embedded")
    import_rdf(imported, out.getvalue().encode(), "turtle")
    want = {k: v for k, v in snapshot(source, given).items() if k not in ("documents", "mentions")}
    want.update(seedings=[], pinned=sorted(source.pinned_ids()),  # a seed's entities arrive as imports
                stats=replace(want["stats"], documents=0))
    assert {k: v for k, v in snapshot(imported, given).items() if k not in ("documents", "mentions")} == want


@pytest.mark.parametrize("steps", [STEPS, EDGES], ids=["sources", "stub ends"])
@pytest.mark.parametrize("kind", ["embedded", "rdf", "neo4j"])
def test_store_a_cypher_export_loaded_into_neo4j_is_the_graph_of_each_backend(kind, steps, make_store):
    """`export --format cypher` holds what the neo4j store holds: loaded into a graph, the store gives the source's
    entities, facts with every source, pinned entities, seed records, documents and mentions; loaded again, nothing
    changes; and the store behaves as the source afterwards."""
    given: set[str] = set()
    source = make_store(kind)
    for _, step in steps[:-2]:
        step(Recording(source, given))
    out = io.StringIO()
    export(source, "cypher", out)
    target = make_store("neo4j")
    for _ in range(2):
        load_cypher(out.getvalue(), target, target.prefix)
        assert snapshot(target, given) == snapshot(source, given)
    for name, step in steps[-2:]:
        assert step(target) == step(Recording(source, given)), name
        assert snapshot(target, given) == snapshot(source, given), name


@pytest.mark.parametrize("kind", ["rdf", "neo4j"])
def test_store_a_copy_into_each_backend_is_the_embedded_graph(kind, make_store):
    """`migrate` from the embedded store into another backend gives it the same graph, seed records included."""
    given: set[str] = set()
    source = make_store("embedded")
    for _, step in STEPS[:-2]:
        step(Recording(source, given))
    target = make_store(kind)
    migrate(source, target)
    assert snapshot(target, given) == snapshot(source, given)
    for name, step in STEPS[-2:]:  # and it behaves as the source afterwards
        assert step(target) == step(Recording(source, given)), name
        assert snapshot(target, given) == snapshot(source, given), name
