"""``kgnlp viz`` and ``kgnlp shell`` through a small Typer app, over a tiny SQLite graph."""
from __future__ import annotations

import io
import json
import sys
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.commands.viz import register
from cli.shell import KGShell, history_file, resolve_entity
from kg.errors import KGError
from kg.records import Entity, Provenance, Triple
from kg.stores.sqlite import SQLiteStore
from kg.workspace import Workspace


def _p(doc: str, sentence: str) -> tuple[Provenance, ...]:
    return (Provenance(doc, 0, len(sentence), sentence, "test"),)


ENTITIES = [
    Entity("chem:aspirin", "Aspirin", "Chemical", ("acetylsalicylic acid",), (("mesh", "D001241"),)),
    Entity("chem:aspartame", "Aspartame", "Chemical"),
    Entity("dis:headache", "Headache", "Disease"),
    Entity("org:bayer", "Bayer AG", "Organization"),
    Entity("per:anderson", "Bill Anderson", "Person"),
    Entity("org:monsanto", "Monsanto", "Organization"),
]
TRIPLES = [
    Triple("chem:aspirin", "TREATS", "dis:headache", 0.9, _p("doc1", "Aspirin treats headache.")),
    Triple("org:bayer", "MANUFACTURES", "chem:aspirin", 0.95, _p("doc2", "Bayer AG manufactures aspirin.")),
    Triple("per:anderson", "CEO_OF", "org:bayer", 1.0, _p("doc3", "Bill Anderson is the CEO of Bayer.")),
    Triple("org:bayer", "ACQUIRED", "org:monsanto", 1.0, _p("doc4", "Bayer acquired Monsanto in 2018.")),
]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = Workspace.open(tmp_path / "ws", create=True)
    store = SQLiteStore.open(workspace.graph_path)
    store.add(TRIPLES, ENTITIES)
    store.close()
    return workspace.path


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def invoke(app: typer.Typer, *args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def test_viz_json_reports_out_nodes_edges(app, ws, tmp_path):
    out = tmp_path / "aspirin.html"
    result = invoke(app, "viz", "aspirin", "--hops", "1", "--out", str(out), "-w", str(ws), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"out": str(out), "nodes": 3, "edges": 2}
    assert "Aspirin" in out.read_text(encoding="utf-8")


def test_viz_whole_graph_human_output(app, ws, tmp_path):
    out = tmp_path / "all.html"
    result = invoke(app, "viz", "--out", str(out), "-w", str(ws), "--max-nodes", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {out}: 3 nodes")
    assert "Showing the 3 best-connected of 6 entities" in result.stderr


def test_viz_hops_without_an_entity_is_refused_not_ignored(app, ws, tmp_path):
    result = invoke(app, "viz", "--hops", "3", "--out", str(tmp_path / "all.html"), "-w", str(ws))
    assert result.exit_code == 2 and "counts hops around ENTITY" in " ".join(result.output.split())
    assert not (tmp_path / "all.html").exists()


def test_viz_partial_name_says_which_entity_it_used(app, ws, tmp_path):
    result = invoke(app, "viz", "anders", "--out", str(tmp_path / "g.html"), "-w", str(ws), "--hops", "2")
    assert result.exit_code == 0, result.output
    assert "Using 'Bill Anderson' (per:anderson) for 'anders'." in result.stderr
    quiet = invoke(app, "viz", "anders", "--out", str(tmp_path / "g.html"), "-w", str(ws), "-q")
    assert quiet.stderr == ""


def test_viz_says_nothing_when_the_entity_is_named_by_its_id_or_a_name_key(app, ws, tmp_path):
    for name in ("chem:aspirin", "ACETYLSALICYLIC ACID.", "bayer ag"):
        result = invoke(app, "viz", name, "--out", str(tmp_path / "g.html"), "-w", str(ws))
        assert result.exit_code == 0 and result.stderr == "", (name, result.output)


def test_viz_unknown_entity_is_a_one_line_kgerror(app, ws, tmp_path):
    result = invoke(app, "viz", "paracetamol", "--out", str(tmp_path / "g.html"), "-w", str(ws))
    assert result.exit_code == 1
    assert isinstance(result.exception, KGError)
    assert str(result.exception).startswith("No entity named 'paracetamol' in the graph.")
    assert "\n" not in str(result.exception)
    assert not (tmp_path / "g.html").exists()
    long = invoke(app, "viz", "x" * 5000, "--out", str(tmp_path / "g.html"), "-w", str(ws))
    assert long.exit_code == 1 and "(5000 characters)" in str(long.exception) and len(str(long.exception)) < 400


def test_viz_and_shell_help_show_examples(app):
    assert "kgnlp viz aspirin --hops 2" in invoke(app, "viz", "--help").stdout
    assert "echo \"entity aspirin\" | kgnlp shell" in invoke(app, "shell", "--help").stdout


def test_shell_reads_commands_from_a_pipe(app, ws):
    script = "entity aspirin\nneighbours bayer ag --hops 1\npath Bill Anderson -> Monsanto\nquit\n"
    result = invoke(app, "shell", "-w", str(ws), input=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Aspirin  [Chemical]  chem:aspirin" in out and "mesh: D001241" in out
    assert "Bayer AG -MANUFACTURES-> Aspirin  (0.95)" in out and "doc2: Bayer AG manufactures aspirin." in out
    facts = [line for line in out.splitlines() if "-> " in line and not line.startswith(" ")]
    assert facts[-2:] == ["Bill Anderson -CEO_OF-> Bayer AG  (1.00)", "Bayer AG -ACQUIRED-> Monsanto  (1.00)"]


def test_piped_shell_says_errors_on_stderr_and_exits_1_when_a_command_failed(app, ws):
    """A script's caller learns a command failed: exit 1, each error on stderr, the answers alone on stdout, and
    the commands after a failure still run."""
    script = "frobnicate\nentity nosuchthing\npath aspirin\nentity aspirin\nquit\n"
    result = invoke(app, "shell", "-w", str(ws), input=script)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("Aspirin  [Chemical]  chem:aspirin") and "error" not in result.stdout
    errors = result.stderr.splitlines()
    assert errors[0].startswith("Unknown command 'frobnicate'") and errors[1].startswith("error: No entity named")
    assert errors[2].startswith("Usage: path A -> B") and len(errors) == 3


def shell_over(ws: Path, text: str = "") -> tuple[KGShell, io.StringIO]:
    out = io.StringIO()
    store = SQLiteStore.open(Workspace.open(ws).graph_path)
    return KGShell(store, stdin=io.StringIO(text), stdout=out), out


def test_shell_completes_entity_names_with_spaces_and_after_arrow(ws):
    sh, _ = shell_over(ws)
    assert sh.complete_entity("asp", "entity asp", 7, 10) == ["Aspartame", "Aspirin"]
    assert sh.complete_entity("acetyl", "entity acetyl", 7, 13) == ["acetylsalicylic acid"]
    # readline hands over only the last word; the completion must continue that word.
    assert sh.complete_neighbours("an", "neighbours bill an", 16, 18) == ["Anderson"]
    assert sh.complete_path("mon", "path Bill Anderson -> mon", 22, 25) == ["Monsanto"]
    assert sh.complete_entity("zzz", "entity zzz", 7, 10) == []
    assert "neighbours" in sh.completenames("nei", "nei", 0, 3)


def test_shell_path_between_two_names_of_one_entity_says_so(ws):
    sh, out = shell_over(ws, "path aspirin -> acetylsalicylic acid\n")
    sh.cmdloop(intro=None)
    text = out.getvalue()
    assert "name the same entity, Aspirin (chem:aspirin)" in text and "No path" not in text


def test_shell_errors_do_not_end_the_session(ws):
    sh, out = shell_over(ws, "entity nosuchthing\nneighbours aspirin --hops x\nentity headache\n")
    sh.cmdloop(intro="")
    text = out.getvalue()
    assert "error: No entity named 'nosuchthing'" in text
    assert "error: --hops needs a whole number" in text
    assert "Headache  [Disease]" in text


def test_shell_ask_without_qa_module_says_so(ws, monkeypatch):
    monkeypatch.setitem(sys.modules, "nlp.qa", None)  # import fails as if the module were absent
    sh, out = shell_over(ws, "ask Who is the CEO of Bayer?\n")
    sh.cmdloop(intro="")
    assert "Question answering is not available in this build" in out.getvalue()


def test_shell_ask_answers_from_the_graph_with_evidence(ws):
    pytest.importorskip("nlp.qa")
    sh, out = shell_over(ws, "Who is the CEO of Bayer AG?\nask Who runs Nowhere Inc?\n")  # '?' = a question
    sh.cmdloop(intro="")
    text = out.getvalue()
    assert "1. Bill Anderson  (score 1.00)" in text
    assert "doc3: Bill Anderson is the CEO of Bayer." in text
    assert "error: " in text  # an unknown entity is one line, and the session goes on


def test_shell_ask_prints_a_compound_question_s_parts_under_each(ws):
    sh, out = shell_over(ws, "Who makes aspirin and who is their CEO?\n")
    sh.cmdloop(intro="")
    lines = [line.removeprefix(sh.prompt) for line in out.getvalue().splitlines()]
    lines = [line for line in lines if line.startswith(("Q: ", "1. "))]
    assert lines == ["Q: Who makes aspirin?", "1. Bayer AG  (score 0.95)",
                     "Q: Who is Bayer AG's CEO?", "1. Bill Anderson  (score 1.00)"]


def test_resolve_entity_prefers_id_then_exact_name(ws):
    store = SQLiteStore.open(Workspace.open(ws).graph_path)
    assert resolve_entity(store, "org:bayer")[0].id == "org:bayer"
    assert resolve_entity(store, "ACETYLSALICYLIC ACID")[0].id == "chem:aspirin"
    with pytest.raises(KGError, match="Expected an entity name"):
        resolve_entity(store, "  ")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_shell_tab_completion_and_history_in_a_real_terminal(ws, tmp_path):
    """Real readline in a pseudo-terminal: Tab completes a two-word name, history is saved on quit, in the user's
    state folder (not the workspace, which the shell only reads), after the lines of the file it kept in the
    workspace before, which stays as it was."""
    import os
    import pty
    import select
    import signal
    import time

    code = ("import typer; from cli.commands.viz import register; app = typer.Typer(); register(app); "
            f"app(['shell', '-w', {str(ws)!r}])")
    (ws / "shell_history").write_text("entity aspirin\n")  # what an earlier version kept there
    before = {p.name: p.stat().st_mtime_ns for p in ws.iterdir()}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the shell on the terminal's other end
        os.environ["TERM"] = "dumb"
        os.environ["XDG_STATE_HOME"] = str(tmp_path / "state")
        os.chdir(Path(__file__).resolve().parents[2])  # the repository root, so `cli` imports
        os.execv(sys.executable, [sys.executable, "-c", code])

    def read_until(marker: str, timeout: float = 20.0) -> str:
        out, end = "", time.time() + timeout
        while marker not in out and time.time() < end:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    out += os.read(fd, 4096).decode(errors="replace")
                except OSError:
                    break
        return out

    status = None
    try:
        assert "kgnlp> " in read_until("kgnlp> ")
        os.write(fd, b"entity bill an\t")
        assert "Anderson" in read_until("Anderson")
        os.write(fd, b"\r")
        assert "per:anderson" in read_until("kgnlp> ")
        os.write(fd, b"quit\r")
        end = time.time() + 20
        while status is None and time.time() < end:
            read_until("never", timeout=0.2)  # keep draining so the child never blocks on output
            done, code_ = os.waitpid(pid, os.WNOHANG)
            status = code_ if done else None
        assert status is not None and os.WEXITSTATUS(status) == 0
    finally:
        if status is None:  # the shell hung or a check failed: do not leave it running
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
        saved = history_file(ws)
    assert saved.is_relative_to(tmp_path / "state")
    assert saved.read_text().splitlines()[-3:] == ["entity aspirin", "entity bill Anderson", "quit"]
    assert {p.name: p.stat().st_mtime_ns for p in ws.iterdir()} == before
    assert (ws / "shell_history").read_text() == "entity aspirin\n"


def test_shell_history_file_is_the_user_s_own_per_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    a, b = history_file(tmp_path / "a" / "ws"), history_file(tmp_path / "b" / "ws")
    assert a.parent == tmp_path / "state" / "kgnlp" / "shell_history" and a.name.startswith("ws-") and a != b
    assert history_file(tmp_path / "a" / "ws") == a  # the same workspace, the same history
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # not absolute: ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert history_file(tmp_path / "a" / "ws").parent == tmp_path / "home" / ".local" / "state" / "kgnlp" / \
        "shell_history"


def test_viz_argument_completes_entity_names_from_the_workspace(ws, tmp_path):
    from cli.commands.viz import complete_entity_name

    ctx = types.SimpleNamespace(params={"ws_path": ws})
    assert complete_entity_name(ctx, "bi") == ["Bill Anderson"]
    assert complete_entity_name(ctx, "ASP") == ["Aspartame", "Aspirin"]
    assert complete_entity_name(types.SimpleNamespace(params={"ws_path": tmp_path / "none"}), "a") == []


def test_viz_argument_completes_names_from_the_store_given_with_store(ws, tmp_path):
    """`kgnlp viz --store rdf -w WS asp<Tab>` completed nothing: the embedded graph was read, and there is none."""
    from cli.commands.viz import complete_entity_name
    from kg.migrate import migrate

    rdf_only = Workspace.open(tmp_path / "rdf", create=True)
    source, target = Workspace.open(ws).open_store("embedded"), rdf_only.open_store("rdf")
    try:
        migrate(source, target)
    finally:
        source.close()
        target.close()
    ctx = types.SimpleNamespace(params={"ws_path": rdf_only.path, "store": "rdf"})
    assert complete_entity_name(ctx, "ASP") == ["Aspartame", "Aspirin"]
    assert not (rdf_only.path / "graph.db").exists()


def test_shell_help_lists_the_commands_people_type_not_eof(ws):
    sh, out = shell_over(ws)
    sh.onecmd("help")
    listed = out.getvalue().split()
    assert {"ask", "entity", "neighbours", "path", "quit"} <= set(listed) and "EOF" not in listed
    assert "EOF" not in sh.completenames("", "", 0, 0) and sh.onecmd("EOF")  # Ctrl-D still leaves


def test_shell_line_that_is_not_utf8_is_one_clear_error_and_the_session_goes_on(ws):
    sh, out = shell_over(ws)
    assert not sh.onecmd("entity \udcff\udcfe")  # bytes ff fe piped in, as Python reads them
    sh.onecmd("entity aspirin")
    lines = out.getvalue().splitlines()
    assert lines[0] == "error: The line is not UTF-8 text (bad byte at character 7). Convert it to UTF-8."
    assert lines[1].startswith("Aspirin  [Chemical]")


def test_shell_ctrl_c_drops_the_line_without_printing_the_intro_again(ws):
    from cli.shell import INTRO, run_shell

    class Typed(io.StringIO):
        def __init__(self) -> None:
            super().__init__("entity aspirin\nquit\n")
            self.interrupted = False

        def readline(self, *args):  # Ctrl-C while the first line is typed
            if not self.interrupted:
                self.interrupted = True
                raise KeyboardInterrupt
            return super().readline(*args)

    out = io.StringIO()
    sh = KGShell(SQLiteStore.open(Workspace.open(ws).graph_path), stdin=Typed(), stdout=out)
    run_shell(sh, intro=INTRO)
    assert out.getvalue().count(INTRO) == 1 and "^C" in out.getvalue() and "Aspirin  [Chemical]" in out.getvalue()


def test_shell_prints_a_source_sentence_over_several_lines_on_one_line(tmp_path):
    """A PDF's or a wrapped text's sentence holds line breaks: printed as they were, an answer's evidence and a
    fact's sources broke over lines that read as separate (and unindented) output."""
    workspace = Workspace.open(tmp_path / "ws", create=True)
    store = SQLiteStore.open(workspace.graph_path)
    sentence = "Bayer AG\nmanufactures\r\naspirin   in Leverkusen."
    store.add([Triple("org:bayer", "MANUFACTURES", "chem:aspirin", 0.95, _p("doc2", sentence))], ENTITIES)
    store.close()
    sh, out = shell_over(workspace.path, "Who makes aspirin?\nneighbours Bayer AG\n")
    sh.cmdloop(intro="")
    lines = out.getvalue().splitlines()
    assert sum("doc2: Bayer AG manufactures aspirin in Leverkusen." in line for line in lines) == 2
    assert not any(line.strip() in {"manufactures", "aspirin   in Leverkusen."} for line in lines)
