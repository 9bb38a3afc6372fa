"""Which graph a fused model was trained with (``config.json``'s ``"graph"``), and what a workspace used with it
later holds by comparison: the same graph, another one (a one-line note), or none of the entities its KG table has
vectors for (refused: the embeddings path would read nothing)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from fusion.errors import FusionError

if TYPE_CHECKING:
    from fusion.config import SavedConfig


@dataclass(frozen=True)
class GraphOrigin:
    """A graph as a model saw it: the workspace folder it was read from (resolved; '' when the graph was given
    without one), its entity and fact counts, and a digest of every (name, entity id, type) the linker reads."""

    workspace: str
    entities: int
    facts: int
    digest: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> "GraphOrigin | None":
        """None for a model saved before the record existed (or with it damaged): nothing to compare with."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(str(data["workspace"]), int(data["entities"]), int(data["facts"]), str(data["digest"]))
        except (KeyError, TypeError, ValueError):
            return None

    def same_graph(self, other: "GraphOrigin") -> bool:
        return (self.digest, self.entities, self.facts) == (other.digest, other.entities, other.facts)

    def counts(self) -> str:
        return f"{self.entities} entities, {self.facts} facts"


Names = Iterable[tuple[str, str, str]]  # (name, entity id, type) rows, as GraphStore.names() gives them


def graph_origin(store, workspace: str | Path | None = None, names: Names | None = None
                 ) -> tuple[GraphOrigin, set[str]]:
    """The :class:`GraphOrigin` of ``store`` (read from ``workspace``) and the ids of its entities. A workspace's
    graph is taken as its readers see it, with its entity merges applied (:mod:`kg.resolved`), whether ``store``
    is that view (what every command gives a model) or the stored graph itself: the same graph gives the same
    record either way. ``names``: the ``names()`` of that view when already read (the linker reads them too):
    ``store`` is then taken to be the view they were read from, and the merge log is not read again."""
    if workspace and names is None:
        from kg.resolved import resolved

        store = resolved(store, workspace)  # the view itself when given it, or the store when nothing is merged
    rows, ids = [], set()
    for name, entity_id, kind in (store.names() if names is None else names):
        rows.append((str(name), str(entity_id), str(kind)))
        ids.add(str(entity_id))
    h = hashlib.sha256()
    for row in sorted(rows):
        h.update(json.dumps(row).encode("utf-8"))
    where = str(Path(workspace).resolve()) if workspace else ""
    return GraphOrigin(where, len(ids), int(store.stats().relations), h.hexdigest()[:16]), ids


def table_entities(model: "str | Path | SavedConfig") -> tuple[str, ...]:
    """The entity ids of a saved model's KG table (its embeddings path's rows), read without torch; () for a
    model without the embeddings path (``model``: its folder, or its config.json already read)."""
    from fusion.config import saved_config

    saved = saved_config(model)
    if not saved.fusion.uses_embeddings:
        return ()
    for path in (saved.folder / "kg_entities.json", saved.folder / "kg_embeddings" / "entities.json"):  # as load
        if path.exists():
            try:
                return tuple(map(str, json.loads(path.read_text(encoding="utf-8"))["ids"]))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise FusionError(f"'{path}' is damaged ({type(exc).__name__}): copy the whole model folder "
                                  "again or retrain.") from exc
    return ()  # FusedModel.load says what is missing


def check_graph(model: "str | Path | SavedConfig", store, workspace: str | Path | None = None,
                names: Names | None = None) -> str | None:
    """Compare the graph ``store`` (read from ``workspace``; ``names``: its names when already read, see
    :func:`graph_origin`) with the one the fused ``model`` (its folder, or its config.json already read) was
    trained with. None when they are the same graph (wherever it lies now) or the model records none; else one
    line that says what differs. A graph that holds entities but none of those the model's KG table has vectors
    for is refused (FusionError): the embeddings path would mark no mention, whatever the text."""
    from fusion.config import saved_config

    config = saved_config(model)
    folder, trained_on = config.folder, config.graph  # the graph the model was trained with
    if config.fusion.fusion == "none":
        return None
    table = table_entities(config)
    now, ids = graph_origin(store, workspace, names)
    where = f"workspace '{now.workspace}'" if now.workspace else "the graph given"
    trained = f" (trained with workspace '{trained_on.workspace}')" if trained_on and trained_on.workspace else ""
    shared = sum(e in ids for e in table)
    if table and ids and not shared:
        fix = (f"pass -w {trained_on.workspace}" if trained_on and trained_on.workspace
               else "pass the workspace it was trained with")
        raise FusionError(f"'{folder}' reads graph vectors of {len(table)} entities{trained}, and {where} has none "
                          f"of them ({now.counts()}): {fix}.")
    if trained_on is None or trained_on.same_graph(now):
        return None
    vectors = f"; {shared} of its {len(table)} entity vectors match" if table else ""
    if trained_on.workspace and trained_on.workspace == now.workspace:
        return (f"Note: the graph of {where} changed since '{folder}' was trained ({trained_on.entities} -> "
                f"{now.entities} entities, {trained_on.facts} -> {now.facts} facts): the model reads links and facts "
                f"it was not trained with{vectors}.")
    source = (f"the graph of workspace '{trained_on.workspace}'" if trained_on.workspace
              else "a graph given without a workspace")
    fix = f" (pass -w {trained_on.workspace} for the one it learnt with)" if trained_on.workspace else ""
    return (f"Warning: '{folder}' was trained with {source} ({trained_on.counts()}); {where} holds another "
            f"({now.counts()}){vectors}: its graph knowledge differs from training{fix}.")
