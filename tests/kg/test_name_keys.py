"""Every backend brings name keys made by an older key rule up to date, once, when it opens a store."""
from __future__ import annotations

import pytest

from kg import names
from kg.records import Entity
from kg.store import GraphStore

BACKENDS = ("embedded", "rdf", "neo4j")
SJOGREN = Entity("dis:sjogren", "Sjögren's syndrome", "Disease", ("Sjögren disease",))
T2D = Entity("dis:t2d", "type 2 diabetes", "Disease", ("Type II diabetes mellitus",))


def _old_key_rule(patch: pytest.MonkeyPatch) -> None:
    """Stores save the keys of the first key rule (KEY_VERSION 1) while ``patch`` holds: every store makes the keys
    it saves with ``kg.names.name_keys``, which keys by ``kg.names.normalise``."""
    patch.setattr("kg.names.normalise", names._plain)


def _drop_version(store: GraphStore) -> None:
    """Remove the record of the key rule, as a store written before there was one holds none."""
    if store.name == "embedded":
        store.query("DELETE FROM meta WHERE key='name_keys'", write=True)
    elif store.name == "rdf":
        store.query("DELETE WHERE { GRAPH kg:meta { ?s ?p ?o } }", write=True)
    else:
        store.query(f"MATCH (m:{store.K}) DELETE m", write=True)


def _record_version(store: GraphStore, version: int) -> None:
    """Record ``version`` as the key rule the store's keys were made by."""
    if store.name == "embedded":
        store.query(f"UPDATE meta SET value='{version}' WHERE key='name_keys'", write=True)
    elif store.name == "rdf":
        store.query(f"DELETE {{ GRAPH kg:meta {{ ?s ?p ?o }} }} INSERT {{ GRAPH kg:meta {{ ?s ?p {version} }} }} "
                    "WHERE { GRAPH kg:meta { ?s ?p ?o } }", write=True)
    else:
        store.query(f"MATCH (m:{store.K} {{key: 'name_keys'}}) SET m.version = {version}", write=True)


def _reopen(make_store, store: GraphStore) -> GraphStore:
    store.close()
    if store.name == "embedded":
        from kg.stores.sqlite import SQLiteStore

        return SQLiteStore.open(store.file)
    if store.name == "rdf":
        from kg.stores.rdf import RDFStore

        return RDFStore.open(path=store.location)
    return make_store("neo4j", label_prefix=store.prefix)


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_store_written_with_old_keys_finds_folded_names_after_it_is_opened(kind, make_store, monkeypatch):
    store = make_store(kind)
    with monkeypatch.context() as old_code:  # the code before KEY_VERSION 2 wrote the keys
        _old_key_rule(old_code)
        store.add([], [SJOGREN, T2D])
        _drop_version(store)
    assert store.find_entities("sjogren syndrome") == [] and store.find_entities("type 2 diabetes mellitus") == []
    store = _reopen(make_store, store)
    try:
        assert [e.id for e in store.find_entities("sjogren syndrome")] == ["dis:sjogren"]
        assert [e.id for e in store.find_entities("Sjogren disease")] == ["dis:sjogren"]
        assert [e.id for e in store.find_entities("type 2 diabetes mellitus")] == ["dis:t2d"]
        assert [e.id for e in store.find_entities("type ii diabetes")] == ["dis:t2d"]
        assert store.find_entities("sjögren's syndrome")[0].name == "Sjögren's syndrome"  # names stay as written
    finally:
        if kind != "neo4j":
            store.close()


def test_an_rdf_store_with_old_keys_opened_to_read_is_brought_up_to_date_first(tmp_path, monkeypatch):
    """Readers open the RDF store read-only (nothing written): the one-time key upgrade takes the write lock
    before reading, or old workspaces read with the store would never find folded names."""
    from kg.stores.rdf import RDFStore

    store = RDFStore.open(path=tmp_path / "rdf")
    with monkeypatch.context() as old_code:
        _old_key_rule(old_code)
        store.add([], [SJOGREN])
        _drop_version(store)
    store.close()
    reader = RDFStore.open(path=tmp_path / "rdf", read_only=True)
    try:
        assert reader.read_only and [e.id for e in reader.find_entities("sjogren syndrome")] == ["dis:sjogren"]
    finally:
        reader.close()
    again = RDFStore.open(path=tmp_path / "rdf", read_only=True)  # done once: the next reader finds it done
    try:
        assert again._name_keys_current()
    finally:
        again.close()


def _hold_alias_twice(store: GraphStore, entity_id: str, alias: str) -> None:
    """Store one alias twice on an entity, as embedded and neo4j stores did before an alias given twice in one
    write was stored once (RDF holds a set of statements: it never could)."""
    if store.name == "embedded":
        store.query(f"UPDATE entities SET aliases=json_array('{alias}', '{alias}') WHERE id='{entity_id}'", write=True)
    else:
        store.query(f"MATCH (e:{store.E} {{id: '{entity_id}'}}) SET e.aliases = ['{alias}', '{alias}']", write=True)


@pytest.mark.parametrize("kind", ["embedded", "neo4j"])
def test_the_key_migration_on_open_stores_an_alias_held_twice_once(kind, make_store):
    store = make_store(kind)
    store.add([], [Entity("chem:asa", "aspirin", "Chemical", ("ASA",))])
    _hold_alias_twice(store, "chem:asa", "ASA")
    _drop_version(store)
    assert store.entity("chem:asa").aliases == ("ASA", "ASA")  # what such a store gave back
    store = _reopen(make_store, store)
    try:
        assert store.entity("chem:asa").aliases == ("ASA",)
        assert [n for n, _, _ in store.names()] == ["aspirin", "ASA"]
        assert [e.id for e in store.find_entities("asa")] == ["chem:asa"]
    finally:
        if kind != "neo4j":
            store.close()


def _old_keyed(store: GraphStore, monkeypatch) -> None:
    """``SJOGREN`` written by the code before KEY_VERSION 2, the version record dropped."""
    with monkeypatch.context() as old_code:
        _old_key_rule(old_code)
        store.add([], [SJOGREN])
        _drop_version(store)


def test_an_rdf_reader_that_cannot_take_the_write_lock_for_the_upgrade_says_its_keys_are_stale(tmp_path, monkeypatch):
    """A writer holds the store: the reader reads the old keys (a flag the CLI turns into one line), never a closed
    store or a traceback."""
    from kg.stores.rdf import RDFStore

    store = RDFStore.open(path=tmp_path / "rdf")
    _old_keyed(store, monkeypatch)
    store.close()
    with monkeypatch.context() as older:  # a writer of the older version holds the lock (an ingest under way)
        older.setattr(RDFStore, "_update_name_keys", lambda self: None)
        writer = RDFStore.open(path=tmp_path / "rdf")
    try:
        reader = RDFStore.open(path=tmp_path / "rdf", read_only=True)
        try:
            assert reader.stale_name_keys and reader.entity("dis:sjogren").name == "Sjögren's syndrome"
        finally:
            reader.close()
    finally:
        writer.close()
    fresh = RDFStore.open(path=tmp_path / "rdf", read_only=True)  # the lock free: brought up to date
    try:
        assert not fresh.stale_name_keys and [e.id for e in fresh.find_entities("sjogren syndrome")] == ["dis:sjogren"]
    finally:
        fresh.close()


def test_an_embedded_graph_a_writer_holds_past_the_busy_timeout_is_one_line_not_a_foreign_file(tmp_path, monkeypatch):
    """sqlite3's 'database is locked' read as '... is not a kgnlp graph database'; a reader of a current graph opens
    it without asking for the write lock (it ran the schema script and an INSERT, and waited or failed as a writer)."""
    import sqlite3

    from kg.errors import KGError
    from kg.stores.sqlite import SQLiteStore

    SQLiteStore.open(tmp_path / "g.db").close()
    holder = sqlite3.connect(tmp_path / "g.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # an ingest's transaction
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connect(*a, **{**k, "timeout": 0.1}))
    try:
        with pytest.raises(KGError, match="busy: another kgnlp process is writing it") as err:
            SQLiteStore.open(tmp_path / "g.db")
        assert "\n" not in str(err.value) and "not a kgnlp graph" not in str(err.value)
        reader = SQLiteStore.open(tmp_path / "g.db", read_only=True)  # a current graph: no write lock asked for
        assert not reader.stale_name_keys and reader.stats().entities == 0
        reader.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_store_written_with_key_rule_2_finds_hyphenated_numerals_after_it_is_opened(kind, make_store, monkeypatch):
    # key rule 3 reads "Type-2 diabetes" as "type 2 diabetes": keys rule 2 made ("type-2 diabetes") are remade on open
    store = make_store(kind)
    with monkeypatch.context() as old_code:  # "type-2 diabetes", as rule 2 keyed it (rule 1 did too)
        _old_key_rule(old_code)
        store.add([], [Entity("dis:t2d", "Type-2 diabetes", "Disease", ("Phase-II disease",))])
        _record_version(store, 2)
    assert store.find_entities("type 2 diabetes") == []
    store = _reopen(make_store, store)
    try:
        assert [e.id for e in store.find_entities("type II diabetes")] == ["dis:t2d"]
        assert [e.id for e in store.find_entities("phase 2 disease")] == ["dis:t2d"]
    finally:
        if kind != "neo4j":
            store.close()


def test_an_embedded_reader_of_old_keys_while_a_writer_holds_the_graph_reads_them_flagged(tmp_path, monkeypatch):
    import sqlite3

    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    _old_keyed(store, monkeypatch)
    store.close()
    holder = sqlite3.connect(tmp_path / "g.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connect(*a, **{**k, "timeout": 0.1}))
    try:
        reader = SQLiteStore.open(tmp_path / "g.db", read_only=True)
        assert reader.stale_name_keys and reader.entity("dis:sjogren").name == "Sjögren's syndrome"
        reader.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_embedded_reader_too_busy_to_read_how_current_its_keys_are_reads_them_flagged_every_kind(tmp_path,
                                                                                                  monkeypatch):
    import sqlite3

    from kg.names import STALE_ROWS, STALE_RULE
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    store.add([], [SJOGREN])
    store.close()

    def busy(self):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SQLiteStore, "_update_name_keys", busy)  # a writer holds it past the busy timeout
    monkeypatch.setattr(SQLiteStore, "_stale_name_keys", busy)  # still, as the reader asks what is out of date
    reader = SQLiteStore.open(tmp_path / "g.db", read_only=True)
    try:
        assert reader.stale_name_keys == {STALE_RULE, STALE_ROWS}
        assert reader.entity("dis:sjogren").name == "Sjögren's syndrome"
    finally:
        reader.close()


def test_an_embedded_store_drops_once_on_open_the_keys_of_names_its_entities_do_not_have(make_store):
    """An embedded store written before its writes saved only the keys of the names an entity takes holds the key of
    a name a later write gave an entity that kept its first: opened, it remakes its keys once, without that one."""
    store = make_store("embedded")
    store.add([], [Entity("x", "Alpha", "Thing", ("a1",))])
    store.query("INSERT INTO names VALUES('beta', 'x')", write=True)  # what `add(Entity("x", "Beta", ...))` left
    store.query("DELETE FROM meta WHERE key='name_rows'", write=True)  # such a store records no name_rows
    assert [e.id for e in store.find_entities("beta")] == ["x"]
    store = _reopen(make_store, store)
    try:
        assert store.find_entities("beta") == []
        assert [e.id for e in store.find_entities("alpha")] == [e.id for e in store.find_entities("a1")] == ["x"]
        assert store.query("SELECT value FROM meta WHERE key='name_rows'").rows == (("2",),)
    finally:
        store.close()
