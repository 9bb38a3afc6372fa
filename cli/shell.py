"""``kgnlp shell``: an interactive prompt over one graph, with history and Tab completion of entity names.

Built on the standard library (``cmd`` + ``readline``): nothing extra to install.
"""
from __future__ import annotations

import bisect
import cmd
import hashlib
import os
import traceback
from pathlib import Path
from typing import Callable, Iterable, TextIO

from cli.common import one_line, utf8_arg
from kg.errors import KGError
from kg.names import slug
from kg.records import Entity, Triple
from kg.store import GraphStore
from kg.views import is_named

HISTORY_LENGTH = 1000
MAX_COMPLETIONS = 50
MAX_ANSWERS = 5
SENTENCE_CHARS = 400  # a source sentence as printed: on one line, cut past this
PATH_SEPARATOR = "->"
MAX_HOPS = 4
INTRO = ("kgnlp shell. Commands: ask, entity, neighbours, path, help, quit. "
         "Tab completes entity names; Up/Down walk the history.")


def resolve_entity(store: GraphStore, text: str) -> tuple[Entity, list[Entity]]:
    """The entity ``text`` names: an id, else the one entity with that name or alias, else the one whose name
    contains it; and the other candidates (longer names that contain it).

    Raises ``KGError`` with a one-line hint when nothing matches, and, listing them, when several entities carry
    that very name ("Mercury": the metal and the firm) or, with none, several names contain it ("diabetes").
    """
    text = text.strip()
    if not text:
        raise KGError("Expected an entity name, got nothing. Example: entity aspirin")
    by_id = store.entity(text)
    if by_id is not None:
        return by_id, []
    found = store.find_entities(text, limit=6)
    if not found:
        raise KGError(f"No entity named '{_shown(text)}' in the graph. Check the spelling, or type the start of the "
                      "name in `kgnlp shell` and press Tab to complete it.")
    exact = [e for e in found if is_named(e, text)]
    if len(exact) > 1 or (not exact and len(found) > 1):
        listed = "; ".join(f"{e.name} [{e.type}] {e.id}" for e in (exact or found)[:5])
        what = "names" if exact else "is part of the names of"
        raise KGError(f"'{_shown(text)}' {what} several entities: {listed}. Pass the id (or more of the name).")
    chosen = exact[0] if exact else found[0]
    return chosen, [e for e in found if e.id != chosen.id]


def _shown(text: str) -> str:
    """A typed name as an error quotes it: long ones cut, and a line break or other control character escaped
    (``\\n``), so that the error stays one line."""
    import unicodedata

    text = text if len(text) <= 120 else f"{text[:100]}… ({len(text)} characters)"
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


class EntityNames:
    """Sorted, case-folded names for prefix completion; read from the store on first use."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, str, str]]]) -> None:
        self._source = source
        self._keys: list[str] | None = None
        self._names: list[str] = []

    def complete(self, prefix: str) -> list[str]:
        if self._keys is None:
            pairs = sorted({(n.casefold(), n) for n, _id, _type in self._source() if n})
            self._keys = [k for k, _ in pairs]
            self._names = [n for _, n in pairs]
        key = prefix.casefold()
        i = bisect.bisect_left(self._keys, key)
        out: list[str] = []
        while i < len(self._keys) and self._keys[i].startswith(key) and len(out) < MAX_COMPLETIONS:
            if self._names[i] not in out:
                out.append(self._names[i])
            i += 1
        return out


class KGShell(cmd.Cmd):
    """The interactive loop. ``stdin``/``stdout`` may be any text streams (tests, pipes); errors go to ``stderr``
    when given (commands piped in: a program reads the answers on stdout), else to ``stdout`` with the answers (at
    a terminal). ``failures`` counts the commands that failed (an error, an unknown command, a usage message)."""

    prompt = "kgnlp> "
    doc_header = "Commands (help COMMAND for details):"

    def __init__(self, store: GraphStore, workspace: object | None = None, history: Path | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None, debug: bool = False,
                 stderr: TextIO | None = None, earlier_history: Path | None = None) -> None:
        super().__init__(completekey="tab", stdin=stdin, stdout=stdout)
        self.stderr = stderr
        self.failures = 0
        if stdin is not None:
            self.use_rawinput = False
        self.store = store
        self.workspace = workspace
        self.history = history
        self.earlier_history = earlier_history  # read (never written) while ``history`` does not exist yet
        self.debug = debug
        self.names = EntityNames(store.names)
        self._entity_cache: dict[str, Entity | None] = {}
        self._history_loaded = False

    # ---- loop plumbing -------------------------------------------------------------------
    def preloop(self) -> None:
        readline = _readline() if self.use_rawinput else None
        if readline is None:
            return
        # Only whitespace splits words: names keep their hyphens, apostrophes and dots, and
        # _complete_name looks at the whole argument, spaces included.
        readline.set_completer_delims(" \t\n")
        readline.set_history_length(HISTORY_LENGTH)
        earlier = [p for p in (self.history, self.earlier_history) if p is not None and p.is_file()]
        if earlier and not self._history_loaded:
            self._history_loaded = True
            try:
                readline.read_history_file(str(earlier[0]))
            except OSError:
                pass

    def postloop(self) -> None:
        readline = _readline() if self.use_rawinput else None
        if readline is not None and self.history is not None:
            try:
                self.history.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(str(self.history))
            except OSError:
                self._say(f"(could not save history to {self.history})")

    def onecmd(self, line: str) -> bool:
        try:
            # piped bytes that are not UTF-8 arrive as lone surrogates: said as `kgnlp ner` says it
            return bool(super().onecmd(utf8_arg(line, "the line")))
        except Exception as exc:  # noqa: BLE001 - one bad command must not end the session
            self._fail(f"error: {exc}")
            if self.debug:
                self._fail(traceback.format_exc().rstrip(), count=False)
            return False

    def get_names(self) -> list[str]:
        # help and command completion list what people type; EOF is what Ctrl-D sends, not a command
        return [n for n in super().get_names() if n not in ("do_EOF", "help_EOF")]

    def emptyline(self) -> bool:
        return False  # cmd's default repeats the last command, which surprises people

    def default(self, line: str) -> bool:
        if line.strip().endswith("?"):
            return bool(self.do_ask(line))
        self._fail(f"Unknown command '{line.split()[0]}'. Type help to list the commands, "
                   "or end a question with '?' to ask it.")
        return False

    def completedefault(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return []

    # ---- commands --------------------------------------------------------------------------
    def do_ask(self, arg: str) -> bool:
        """ask QUESTION: answer from the graph and the documents, with evidence.
        Example: ask What does metformin treat?   (a line ending in '?' is asked too)"""
        question = arg.strip()
        if not question:
            self._fail("Usage: ask QUESTION   e.g. ask Who leads Northwind Therapeutics?")
            return False
        try:
            from nlp.qa import answer
        except ImportError:
            self._fail("Question answering is not available in this build (nlp.qa.answer is missing). "
                       "Use entity, neighbours or path meanwhile.")
            return False
        self._print_answers(answer(self.store, question))
        return False

    def do_entity(self, arg: str) -> bool:
        """entity NAME: show an entity: type, id, other names, external ids, number of facts.
        Example: entity aspirin"""
        ent, others = resolve_entity(self.store, arg)
        self._say(f"{ent.name}  [{ent.type}]  {ent.id}")
        if ent.aliases:
            self._say(f"  also: {', '.join(ent.aliases)}")
        for key, value in ent.external_ids:
            self._say(f"  {key}: {value}")
        facts = self.store.neighbours(ent.id, 1)
        self._say(f"  facts: {len(facts)}" + (f"  (neighbours {ent.name} lists them)" if facts else ""))
        if others:
            self._say(f"  other matches: {'; '.join(f'{o.name} ({o.id})' for o in others)}")
        return False

    def do_neighbours(self, arg: str) -> bool:
        """neighbours NAME [--hops N]: the facts around an entity, with their sources.
        Example: neighbours aspirin --hops 2"""
        name, hops = _split_hops(arg)
        ent, _ = resolve_entity(self.store, name)
        facts = self.store.neighbours(ent.id, hops)
        if not facts:
            self._say(f"No facts about {ent.name} ({ent.id}).")
        for t in facts:
            self._print_fact(t)
        return False

    def do_path(self, arg: str) -> bool:
        """path A -> B: the shortest chain of facts linking two entities (at most 4 hops).
        Example: path Elena Marchetti -> Bramble Biologics"""
        if PATH_SEPARATOR not in arg:
            self._fail(f"Usage: path A {PATH_SEPARATOR} B   e.g. path aspirin {PATH_SEPARATOR} warfarin")
            return False
        left, right = arg.split(PATH_SEPARATOR, 1)
        a, _ = resolve_entity(self.store, left)
        b, _ = resolve_entity(self.store, right)
        if a.id == b.id:  # as `kgnlp query path`: not "no path", which reads as if they were unconnected
            self._say(f"'{left.strip()}' and '{right.strip()}' name the same entity, {a.name} ({a.id}).")
            return False
        facts = self.store.path(a.id, b.id)
        if not facts:
            self._say(f"No path within 4 hops between {a.name} and {b.name}.")
        for t in facts:
            self._print_fact(t)
        return False

    def do_quit(self, arg: str) -> bool:
        """quit: leave the shell (also: exit, Ctrl-D)."""
        return True

    do_exit = do_quit

    def do_EOF(self, arg: str) -> bool:  # noqa: N802 - the name cmd dispatches Ctrl-D to
        """Ctrl-D leaves the shell."""
        if self.use_rawinput:
            self._say("")  # end the prompt's line
        return True

    # Tab completion of entity names for every command that takes one.
    def complete_entity(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return self._complete_name(text, line, endidx)

    complete_neighbours = complete_entity

    def complete_path(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return self._complete_name(text, line, endidx, after=PATH_SEPARATOR)

    def _complete_name(self, text: str, line: str, endidx: int, after: str | None = None) -> list[str]:
        typed = line[:endidx]
        # The fragment is the whole argument typed so far (names have spaces): after the command,
        # or after the last separator.
        fragment = typed.split(None, 1)[1] if len(typed.split(None, 1)) > 1 else ""
        if after and after in fragment:
            fragment = fragment.rsplit(after, 1)[1]
        fragment = fragment.lstrip()
        if not fragment.endswith(text):
            return []
        # readline replaces only ``text`` (the part after its word delimiters): hand back that part.
        cut = len(fragment) - len(text)
        return [name[cut:] for name in self.names.complete(fragment)]

    # ---- printing --------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.stdout.write(text + "\n")

    def _fail(self, text: str, count: bool = True) -> None:
        """An error or usage message: to ``stderr`` when the shell has one, counted as a failed command."""
        (self.stderr or self.stdout).write(text + "\n")
        self.failures += count

    def _name(self, entity_id: str) -> str:
        if entity_id not in self._entity_cache:
            self._entity_cache[entity_id] = self.store.entity(entity_id)
        ent = self._entity_cache[entity_id]
        return ent.name if ent else entity_id

    def _print_fact(self, t: Triple) -> None:
        self._say(f"{self._name(t.head_id)} -{t.relation}-> {self._name(t.tail_id)}  ({t.confidence:.2f})")
        for p in t.provenance[:3]:
            self._say(f"    {p.doc_id}: {one_line(p.sentence, SENTENCE_CHARS)}" if p.sentence
                      else f"    {p.doc_id} ({p.extractor})")
        if len(t.provenance) > 3:
            self._say(f"    ... {len(t.provenance) - 3} more sources")

    def _print_answers(self, result: object) -> None:
        """A ``nlp.qa.QAResult``: the best answers, each with its score and the sentences behind it."""
        from nlp.answers import brief_evidence

        answers = list(getattr(result, "answers", ()) or ())
        if not answers:
            self._say("No answer found.")
            return
        parts = getattr(result, "parts", ())
        for part in parts:  # a compound question: each part's answers under it
            self._say(f"Q: {part.question}")
            self._print_answers(part)  # "No answer found." for a part without answers
        if parts:
            return
        for rank, ans in enumerate(answers[:MAX_ANSWERS], 1):
            self._say(f"{rank}. {ans.text}  (score {ans.score:.2f})")
            for ev in brief_evidence(ans.evidence, key=lambda e: e.triple):
                fact = " ".join(ev.triple) if ev.triple else ""
                if ev.sentence:
                    self._say(f"    {ev.doc}: {one_line(ev.sentence, SENTENCE_CHARS)}"
                              + (f"  [{fact}]" if fact else ""))
                elif fact:
                    self._say(f"    [{fact}]")
        if len(answers) > MAX_ANSWERS:
            self._say(f"   ... {len(answers) - MAX_ANSWERS} more")


def history_file(workspace: Path) -> Path:
    """Where ``kgnlp shell`` keeps one workspace's history: in the user's state folder (``$XDG_STATE_HOME``, else
    ``~/.local/state``), ``kgnlp/shell_history/<folder name>-<hash of its absolute path>``. Not in the workspace:
    the shell only reads it (a reading command changes no file there, and the workspace may be read-only or shared),
    and what one user typed is theirs, not every reader's of a shared workspace."""
    state = os.environ.get("XDG_STATE_HOME", "")
    root = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"  # a relative one: ignored (XDG)
    folder = Path(os.path.abspath(workspace))
    digest = hashlib.sha256(os.fsencode(folder)).hexdigest()[:12]
    return root / "kgnlp" / "shell_history" / f"{slug(folder.name)}-{digest}"


def _split_hops(arg: str) -> tuple[str, int]:
    """``"Bayer AG --hops 2"`` -> ("Bayer AG", 2)."""
    words = arg.split()
    if "--hops" in words:
        i = words.index("--hops")
        try:
            hops = int(words[i + 1])
        except (IndexError, ValueError):
            raise KGError("--hops needs a whole number, e.g. neighbours aspirin --hops 2") from None
        if not 1 <= hops <= MAX_HOPS:  # as `kgnlp query neighbours`: hub entities make wider rings huge
            raise KGError(f"--hops must be 1 to {MAX_HOPS}, got {hops}.")
        return " ".join(words[:i] + words[i + 2:]), hops
    return arg.strip(), 1


def _readline():  # noqa: ANN202 - a module, or None where Python has no readline (Windows)
    try:
        import readline
    except ImportError:
        return None
    return readline


def run_shell(shell: KGShell, intro: str | None = INTRO) -> None:
    """Loop until quit/Ctrl-D; Ctrl-C cancels the line being typed, not the session."""
    while True:
        try:
            shell.cmdloop(intro)
            return
        except KeyboardInterrupt:
            shell.stdout.write("^C\n")
            intro = ""  # not None: cmdloop(None) prints the intro it was first given again
