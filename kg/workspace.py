"""A workspace: the folder that holds one project's graph, indexes, models and settings."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KGError
from kg.resolved import resolved
from kg.store import GraphStore, store_class

MARKER = "workspace.json"


@dataclass(frozen=True)
class Workspace:
    """Paths of a workspace folder. Nothing is read or written until a method is called."""

    path: Path

    @classmethod
    def open(cls, path: str | Path, create: bool = False) -> "Workspace":
        """The workspace at ``path``; with ``create`` the folder is made when missing."""
        ws = cls(Path(path))
        marker = ws.path / MARKER
        if marker.exists():
            return ws
        if not create:
            raise KGError(
                f"No kgnlp workspace at '{ws.path}'. Run `kgnlp ingest PATH` to create one, "
                "or pass --workspace DIR (or set KGNLP_WORKSPACE)."
            )
        if ws.path.exists() and not ws.path.is_dir():
            raise KGError(f"Workspace path '{ws.path}' is a file, expected a folder.")
        ws.path.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"format": 1, "store": "embedded"}) + "\n", encoding="utf-8")
        return ws

    @property
    def graph_path(self) -> Path:
        return self.path / "graph.db"

    @property
    def rdf_path(self) -> Path:
        """The RDF store's folder (it exists once something was written there)."""
        return self.path / "rdf"

    def local_stores(self) -> list[str]:
        """The backends that keep their graph in this folder and hold one here: embedded and/or rdf."""
        return [kind for kind, path in (("embedded", self.graph_path), ("rdf", self.rdf_path)) if path.exists()]

    def check_embedded_graph(self, way: str = "pass --store rdf (or set store = \"rdf\" in kgnlp.toml)") -> None:
        """Before reading the embedded store: a workspace whose graph went only to its RDF store says so (and
        ``way``, what to do), instead of an empty ``graph.db`` being made and nothing found."""
        if not self.graph_path.exists() and self.rdf_path.exists():
            raise KGError(f"Workspace '{self.path}' holds its graph in the rdf store, not the embedded one: {way}.")

    def check_rdf_graph(self) -> None:
        """Before reading the RDF store: a workspace that has none says so, instead of an empty one being made
        (which `kgnlp migrate --from rdf` would then copy over the embedded graph, emptying it)."""
        if not self.rdf_path.exists():
            raise KGError(f"No RDF store in workspace {self.path}: `kgnlp migrate --from embedded --to rdf` copies the "
                          "graph there (or ingest with --store rdf).")

    def read_embedded(self) -> GraphStore:
        """The embedded store, for a command that has no --store (the fusion models, `eval`, entity resolution),
        with the workspace's entity merges applied: a workspace whose graph is only in its RDF store is refused
        with the way to copy it over."""
        self.check_embedded_graph("this command reads the embedded store; copy the graph there with "
                                  "`kgnlp migrate --from rdf --to embedded`")
        return resolved(self.open_store("embedded", read_only=True), self.path)

    def settings(self) -> dict[str, object]:
        return json.loads((self.path / MARKER).read_text(encoding="utf-8"))

    def open_store(self, kind: str = "embedded", **options: object) -> GraphStore:
        """Open the workspace's graph in the named backend."""
        cls = store_class(kind)
        if kind == "embedded":
            return cls.open(self.graph_path, **options)
        return cls.open(self, **options)
