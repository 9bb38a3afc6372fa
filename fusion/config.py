"""``FusionConfig``: what a fused model is (paths, head, labels), saved in its ``config.json``."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from fusion.errors import FusionError

MARKER = "kgnlp-fused-model"  # the "kgnlp" key of a fused model's config.json
MAX_HEADER = 100_000_000  # bytes: the largest header the safetensors library itself reads


def is_fused_model(folder: str | Path) -> bool:
    """True when ``folder`` holds a fused kgnlp model (its config.json says so); here, not in fusion.model,
    because that imports torch."""
    return _marked(folder) is not None


def _marked(folder: str | Path) -> dict | None:
    """``folder``'s config.json when it can be read and says it is a fused kgnlp model's, else None."""
    try:
        data = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("kgnlp") == MARKER else None


def _one_line(exc: BaseException, limit: int = 240) -> str:
    """A library error's message on one line (a FusionError is printed as one line), cut at ``limit``."""
    return " ".join(str(exc).split())[:limit] or type(exc).__name__


def _read_marked(folder: str | Path) -> dict:
    """``folder``'s config.json, a FusionError unless it is a fused kgnlp model's (its settings not yet checked)."""
    path = Path(folder) / "config.json"
    if not path.exists():
        raise FusionError(f"No fused model at '{folder}' (config.json missing). Train one with "
                          "`kgnlp train classify|qa --out DIR`.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FusionError(f"'{path}' is damaged ({type(exc).__name__}: {exc}): retrain the model or restore "
                          "its folder.") from exc
    if not isinstance(data, dict) or data.get("kgnlp") != MARKER:
        raise FusionError(f"'{folder}' holds a model that is not a fused kgnlp model. Train one with "
                          "`kgnlp train classify|qa --out DIR`.")
    return data


@dataclass(frozen=True)
class SavedConfig:
    """A fused model's ``config.json``, read once and checked (:func:`saved_config`): what the commands check before
    the model loads (its head, labels, paths, the graph it was trained with) and what ``FusedModel.load`` builds it
    from. Functions that take a model folder also take this, and then read nothing again."""

    folder: Path
    fusion: FusionConfig
    encoder: object  # the encoder's Hugging Face config (a dict; anything else: FusedModel.load says it is damaged)
    graph: object  # fusion.origin.GraphOrigin, or None: saved before it was recorded
    pairs: bool | None = None  # trained on text pairs (a question with its passage); None: saved before it was said

    @property
    def head(self) -> str:
        return self.fusion.head

    @property
    def yes_no_labels(self) -> bool:
        """A sequence head whose labels are all yes, no or maybe: a model that can answer yes/no/maybe questions."""
        from nlp.formats.pubmedqa import DECISIONS

        return self.head == "sequence" and {str(lab).lower() for lab in self.fusion.labels} <= set(DECISIONS)

    @property
    def answers_yes_no(self) -> bool:
        """A yes/no/maybe QA model (``kgnlp train qa``), which reads a question with a passage, not a text alone: yes/no
        labels, and trained on pairs (a model saved before that was recorded: the labels alone say it)."""
        return self.yes_no_labels and self.pairs is not False


def saved_config(model: "str | Path | SavedConfig") -> SavedConfig:
    """The checked ``config.json`` of the fused model in folder ``model`` (read here, once; ``model`` itself when it
    is already one): a FusionError when the folder holds no fused model or a damaged one."""
    if isinstance(model, SavedConfig):
        return model
    return _saved(model, _read_marked(model))


def fused_config(folder: str | Path) -> SavedConfig | None:
    """:func:`saved_config` of ``folder`` when it holds a fused model (:func:`is_fused_model`), else None (another
    kind of model, or no model): config.json read once for both. A folder marked fused whose "fusion" settings are
    damaged is a FusionError, not None."""
    data = _marked(folder)
    return None if data is None else _saved(folder, data)


def _saved(folder: str | Path, data: dict) -> SavedConfig:
    """A fused model's config.json (``data``, marked as one) with its "fusion" settings checked."""
    from fusion.origin import GraphOrigin

    extra = data.get("extra")
    pairs = extra.get("pairs") if isinstance(extra, dict) else None
    return SavedConfig(Path(folder), _fusion_of(folder, data), data.get("encoder"),
                       GraphOrigin.from_dict(data.get("graph")), pairs if isinstance(pairs, bool) else None)


def _fusion_of(folder: str | Path, data: dict) -> "FusionConfig":
    """The checked "fusion" settings of a fused model's config.json ``data`` (what the commands read, its head and
    labels, before the weights load)."""
    try:
        return FusionConfig.from_dict(data["fusion"])
    except (KeyError, TypeError, ValueError, AttributeError, FusionError) as exc:
        why = "missing" if isinstance(exc, KeyError) else _one_line(exc, 160)
        raise FusionError(f"'{Path(folder) / 'config.json'}' is damaged (its \"fusion\" settings: {why}): retrain "
                          "the model or restore its folder.") from exc


def check_weights(saved: SavedConfig) -> None:
    """The model's ``model.safetensors`` is there and starts as a safetensors file does (its header is read, not
    the weights): ``FusedModel.load`` checks this first, so a folder copied without its weights, or with them cut
    short, is named as such before the encoder is built (and before a command that loads its models first writes
    anything); the load finds what else may be wrong."""
    path = saved.folder / "model.safetensors"
    if not path.is_file():
        raise FusionError(f"The fused model at '{saved.folder}' has no model.safetensors: copy the whole model folder "
                          "or retrain it.")
    try:
        with path.open("rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            if not 0 < size <= min(MAX_HEADER, path.stat().st_size - 8):
                raise ValueError(f"a header of {size} bytes in a file of {path.stat().st_size}")
            json.loads(fh.read(size))
    except (OSError, ValueError) as exc:
        raise weights_error(path, f"not a safetensors file: {_one_line(exc, 120)}") from exc


def weights_error(path: Path, why: str) -> FusionError:
    """The error for a weights file ``path`` that cannot be this model's (``why``)."""
    return FusionError(f"'{path}' does not hold this model's weights ({why}): the folder is damaged or mixed with "
                       "another model's files; copy it again or retrain.")


_TRAINED_BY = {"token": "`kgnlp train ner --fusion ...`", "sequence": "`kgnlp train classify` or a yes/no/maybe "
               "`kgnlp train qa`", "multilabel": "`kgnlp train classify`", "span": "`kgnlp train qa` (spans)"}


def check_head(head: str, folder: str | Path, heads: tuple[str, ...], use: str, needs: str) -> None:
    """A model's ``head`` is one that ``use`` (e.g. "an NER --model") can read; else say what the model in
    ``folder`` is and which command trains what ``use`` ``needs`` (here, without torch: before a model loads)."""
    if head not in heads:
        raise FusionError(f"'{folder}' is a {head} model (from {_TRAINED_BY.get(head, 'another command')}); {use} "
                          f"needs one from {needs}.")


def check_classifier(saved: SavedConfig, use: str) -> None:
    """The model of ``saved`` classifies texts, as ``use`` (e.g. "`kgnlp classify`") needs: a sequence or multilabel
    head from ``kgnlp train classify``. A yes/no/maybe QA model (a sequence head too) is refused: it would label the
    text as if it had read the passage it answers from (here, without torch: before the model loads)."""
    check_head(saved.head, saved.folder, ("sequence", "multilabel"), use, "`kgnlp train classify`")
    if saved.answers_yes_no:
        raise FusionError(f"'{saved.folder}' is a yes/no/maybe QA model (from `kgnlp train qa`), which answers a "
                          f"question from a passage; {use} reads a text alone: ask it with `kgnlp ask --model "
                          f"{saved.folder}` (or score it with `kgnlp eval qa --model`).")


def check_out(out: str | Path, head: str) -> None:
    """Before training: ``out`` is new, empty, a fused model with the same head (the run resumes or replaces it) or
    an interrupted run's checkpoint; another model, an encoder or a folder of files is refused, nothing written."""
    out = Path(out)
    if not out.is_dir() or not any(out.iterdir()):
        return
    data = _marked(out)
    if data is not None:
        fusion = data.get("fusion")
        saved = fusion.get("head", "sequence") if isinstance(fusion, dict) else "?"
        if saved == head:
            return
        raise FusionError(f"'{out}' holds a fused {saved} model, which a {head} model would replace. "
                          "Choose an empty or new --out.")
    if {p.name for p in out.iterdir()} <= {"checkpoint", "checkpoint.tmp", "checkpoint.old"}:
        return
    raise FusionError(f"Output folder '{out}' exists and is not a fused kgnlp model (it holds an encoder, another "
                      "kind of model or other files). Choose an empty or new --out.")


FUSIONS = ("none", "facts", "embeddings", "both")
ENTITY_VECTORS = ("all", "trained")  # how a fused model's KG vectors are completed: fusion.examples
FACT_MODES = ("kbert", "concat")
FACT_WORDS = ("branch", "sentence")
TRUNCATION_SIDES = ("right", "left")
RETRIEVE_FROM = ("graph", "passage", "sentence")
HEADS = ("token", "sequence", "multilabel", "span")
MAX_KNOWLEDGE_DROPOUT = 0.9  # TrainSettings.knowledge_dropout, here for the CLI's option too


@dataclass(frozen=True)
class FusionConfig:
    """``fusion`` switches the two knowledge paths; ``none`` is the plain fine-tuned encoder.

    ``fact_mode``: ``kbert`` (facts after their mention, soft positions, visibility mask) or ``concat``
    (facts appended after a [SEP], full attention). ``fact_words``: how a K-BERT fact reads after its mention:
    ``branch`` leaves out the entity's name where the mention says it, as K-BERT's sentence tree does
    ("metformin [treats diabetes]"; ``fusion.context.Fact``), ``sentence`` repeats it ("metformin [metformin
    treats diabetes]"; models saved before this field existed read facts so). Concatenated facts and facts
    about the whole input are always sentences. ``inject_layer``: 0 adds graph embeddings to the input
    embeddings, k adds them after encoder layer k. ``truncation_side``: when the input is longer than
    ``max_length``, the longest text loses tokens at its end (``right``) or at its start (``left``: keeps
    the end, e.g. the results section of an abstract). ``retrieved``: with a facts path, that many facts from
    the FAISS fact index (``kgnlp index``) most like the input's first text (the question of a question +
    passage pair, else the text), anchored to a mention they name or, failing that, to [CLS]; they come after
    the graph's own facts within ``max_facts``. 0 (the default) retrieves none. ``retrieve_from``: ``graph``
    (any fact of the index) or ``passage`` (only facts read in the input's last text, the passage of a pair:
    a provenance sentence of the fact is in it) or ``sentence`` (those facts, each placed after the sentence of
    the passage it was read in instead of on the first text; ``fusion.context.with_read_facts``).
    ``kg_readout`` (sequence and multilabel heads with graph embeddings): the logits also read, through a linear
    map of their own, the mean KG vector of the entities the input's knowledge is about (its linked mentions
    and both ends of each fact found for it, retrieved ones included): a direct path from the graph to the
    decision, beside the token-level one, that no token budget cuts.
    """

    head: str = "sequence"
    labels: tuple[str, ...] = ()
    fusion: str = "none"
    fact_mode: str = "kbert"
    fact_words: str = "branch"
    inject_layer: int = 0
    kg_dim: int = 0
    max_length: int = 128
    truncation_side: str = "right"
    max_fact_tokens: int = 16  # per fact
    max_facts: int = 4
    fact_budget: int = 64  # all fact tokens of one input together
    fact_share: float = 0.2  # and at most this share of the input's own tokens (0 = no such limit)
    dropout: float = 0.1
    retrieved: int = 0  # FAISS facts for the first text (needs a retriever at training and inference)
    retrieve_from: str = "graph"
    kg_readout: bool = False
    # (relation, verb) for relations whose facts were put into words with a verb other than the built-in
    # schema's (a user schema, e.g. data/finance/schema.toml): inference says facts the way training did
    relation_verbs: tuple[tuple[str, str], ...] = ()
    # (relation, entity ids) for relations whose facts come only with a text mentioning one of them (the schema's
    # ``when``): inference picks facts the way training did
    relation_when: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def uses_facts(self) -> bool:
        return self.fusion in ("facts", "both")

    @property
    def uses_embeddings(self) -> bool:
        return self.fusion in ("embeddings", "both")

    def checked(self) -> "FusionConfig":
        if self.fusion not in FUSIONS:
            raise FusionError(f"Unknown fusion '{self.fusion}'. Choose one of: {', '.join(FUSIONS)}.")
        if self.fact_mode not in FACT_MODES:
            raise FusionError(f"Unknown fact mode '{self.fact_mode}'. Choose one of: {', '.join(FACT_MODES)}.")
        if self.fact_words not in FACT_WORDS:
            raise FusionError(f"Unknown fact words '{self.fact_words}'. Choose one of: {', '.join(FACT_WORDS)}.")
        if self.truncation_side not in TRUNCATION_SIDES:
            raise FusionError(f"Unknown truncation side '{self.truncation_side}'. "
                              f"Choose one of: {', '.join(TRUNCATION_SIDES)}.")
        if self.head not in HEADS:
            raise FusionError(f"Unknown head '{self.head}'. Choose one of: {', '.join(HEADS)}.")
        if self.head != "span" and not self.labels:
            raise FusionError(f"A '{self.head}' head needs labels; none were given. Check the training data.")
        if self.uses_embeddings and self.kg_dim <= 0:
            raise FusionError(f"Fusion '{self.fusion}' needs graph embeddings (kg_dim > 0). Train them with "
                              "`kgnlp embed` or pass --fusion facts|none.")
        if not 0.0 <= self.fact_share <= 10.0:
            raise FusionError(f"fact_share must be between 0 (no limit) and 10, got {self.fact_share}.")
        if self.retrieve_from not in RETRIEVE_FROM:
            raise FusionError(f"Unknown retrieve_from '{self.retrieve_from}'. Choose one of: {', '.join(RETRIEVE_FROM)}.")
        if self.retrieved < 0:
            raise FusionError(f"retrieved must be 0 or more, got {self.retrieved}.")
        if self.retrieved and not self.uses_facts:
            raise FusionError(f"Retrieved facts need a facts path (--fusion facts|both), not '{self.fusion}'.")
        if self.retrieved and self.retrieve_from == "sentence" and self.head == "token":
            raise FusionError("retrieve_from 'sentence' is for classification and QA inputs, not a token head; "
                              "use 'graph' or 'passage'.")
        if self.kg_readout and not (self.uses_embeddings and self.head in ("sequence", "multilabel")):
            raise FusionError("kg_readout reads graph embeddings into a sequence or multilabel head: use fusion "
                              f"embeddings or both with such a head, not fusion '{self.fusion}' with a "
                              f"'{self.head}' head.")
        from kg.schema import BUILTIN_RELATIONS

        said = {r.name for r in BUILTIN_RELATIONS} | {n for n, _ in self.relation_verbs}
        unsaid = [n for n, _ in self.relation_when if n not in said]
        if unsaid:
            raise FusionError(f"relation_when names relations without a verb ({', '.join(unsaid)}): the model's "
                              "config.json was edited or is damaged; retrain or restore it.")
        if self.inject_layer < 0:
            raise FusionError(f"inject_layer must be 0 (input embeddings) or a layer number, got {self.inject_layer}.")
        return self

    def schema(self):
        """The built-in schema with this model's ``relation_verbs`` and ``relation_when``: the words its facts were
        trained in and when they were read."""
        from kg.schema import ANY, BUILTIN_RELATIONS, RelationType, extended_schema

        rels = {r.name: r for r in BUILTIN_RELATIONS}
        for name, verb in self.relation_verbs:
            rels[name] = replace(rels[name], verb=verb) if name in rels else RelationType(name, (ANY,), (ANY,), verb)
        for name, when in self.relation_when:  # a relation with a condition has its verb above unless built in
            rels[name] = replace(rels[name], when=when)
        return extended_schema(rels.values())

    def with_schema(self, schema) -> "FusionConfig":
        """Remember the verbs of ``schema`` (None: the built-ins) that differ from the built-in schema's, and the
        conditions (``when``) of its relations."""
        from kg.schema import BUILTIN_RELATIONS

        if schema is None:
            return replace(self, relation_verbs=(), relation_when=())
        builtin = {r.name: r.verb for r in BUILTIN_RELATIONS}
        return replace(self, relation_verbs=tuple((r.name, r.verb) for r in schema.relations
                                                  if builtin.get(r.name) != r.verb),
                       relation_when=tuple((r.name, r.when) for r in schema.relations if r.when))

    def with_(self, **changes: object) -> "FusionConfig":
        return replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["labels"] = list(self.labels)
        d["relation_verbs"] = [list(p) for p in self.relation_verbs]
        d["relation_when"] = [[n, list(w)] for n, w in self.relation_when]
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "FusionConfig":
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        kw["labels"] = tuple(kw.get("labels", ()))
        kw.setdefault("fact_words", "sentence")  # saved before branches existed: facts were whole sentences
        kw.setdefault("fact_share", 0.0)  # and before the share limit
        kw["relation_verbs"] = tuple((str(n), str(v)) for n, v in kw.get("relation_verbs", ()))
        kw["relation_when"] = tuple((str(n), tuple(map(str, w))) for n, w in kw.get("relation_when", ()))
        return cls(**kw).checked()
