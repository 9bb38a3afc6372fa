"""The ``kgnlp`` command: builds the Typer app from the command modules and turns errors into one line."""
from __future__ import annotations

import errno
import os
import sys

import typer

from cli.commands import analyse, demo, evaluate, ingest
from cli.commands.query import query_app

app = typer.Typer(
    name="kgnlp",
    help="Knowledge-graph-augmented NLP for medical and financial documents, offline.\n\n"
    "Example: kgnlp ingest data/documents --seed data/seed && kgnlp ask \"What does metformin treat?\"",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
train_app = typer.Typer(help="Train models: ner, classify and qa (fused with the graph or plain).", no_args_is_help=True)
entities_app = typer.Typer(help="Entity resolution: list, run and undo merges.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate NER, relations or QA on a labelled file.", no_args_is_help=True)

ingest.register(app)
analyse.register(app)
evaluate.register(eval_app)
demo.register(app)
app.add_typer(query_app, name="query")
app.add_typer(eval_app, name="eval")


def _register_optional() -> None:
    """Command groups whose modules land separately; each is wired the same way."""
    import importlib

    for module, args in (
        ("cli.commands.stores", (app, query_app)),
        ("cli.commands.embed", (app,)),
        ("cli.commands.extraction", (app, train_app, entities_app)),
        ("cli.commands.viz", (app,)),
        ("cli.commands.fusion", (app, train_app)),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(*args)


_register_optional()
app.add_typer(train_app, name="train")
app.add_typer(entities_app, name="entities")


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: one-line errors, exit 1 (2 for usage), tracebacks only with --debug."""
    try:  # typer >= 0.26 carries its own copy of click
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - older typer uses the click package
        from click import exceptions as click

    from cli.common import Interrupted
    from fusion.errors import FusionError
    from kg.errors import KGError, is_unicode
    from nlp.errors import NLPError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("KGNLP_DEBUG"))
    if not debug:  # no "Loading weights" bars or load reports from transformers on a user's terminal
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    args = [a for a in args if a != "--debug"]
    if debug:
        os.environ["KGNLP_DEBUG"] = "1"  # the interactive shell reads it too
    try:
        from cli.config import default_map, find_config, option_defaults

        command = typer.main.get_command(app)
        defaults = default_map(command, option_defaults(find_config(args)))
        try:
            result = command.main(args=args, prog_name="kgnlp", standalone_mode=False, default_map=defaults)
        except SystemExit as exc:  # Typer's answer to a closed pipe (`kgnlp export | head`): exit 1, silently
            if isinstance(exc.__context__, OSError) and exc.__context__.errno == errno.EPIPE:
                raise BrokenPipeError from None
            raise
        code = result if isinstance(result, int) else 0
        if code == 130:  # Typer's answer to Ctrl-C: Exit(130), which says nothing
            raise KeyboardInterrupt
    except typer.Exit as exc:
        code = exc.exit_code
    except getattr(click, "NoArgsIsHelpError", ()) as exc:
        print(exc.ctx.get_help() if exc.ctx else str(exc))
        code = 0
    except typer.Abort:
        print("Aborted.", file=sys.stderr)
        code = 130
    except click.ClickException as exc:
        if debug:
            raise
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" Try '{exc.ctx.command_path} --help'."
        message = exc.format_message().rstrip()
        message += "" if message.endswith((".", "?", "!")) else "."
        print(f"Error: {message}{hint}", file=sys.stderr)
        code = exc.exit_code
    except (KGError, NLPError, FusionError) as exc:
        if debug:
            raise
        print(f"Error: {exc}", file=sys.stderr)
        code = 1
    except BrokenPipeError:
        code = 0
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        code = 130
    except Interrupted as exc:  # Ctrl-C in a command that stores in steps: what it kept, and how to finish
        print(f"Interrupted: {exc}", file=sys.stderr)
        code = 130
    except UnicodeEncodeError as exc:  # an argument in bytes that are not UTF-8 reached a name, path or query
        if debug:
            raise
        bad = next((n for n, a in enumerate(args, 1) if not is_unicode(a)), None)
        if bad is None:
            print(f"Internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                  file=sys.stderr)
        else:
            shown = args[bad - 1].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")[:80]
            print(f"Error: argument {bad} ('{shown}') is not UTF-8 text. kgnlp reads names, text and paths as "
                  "UTF-8: convert it.", file=sys.stderr)
        code = 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            raise
        print(f"Internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    run()
