"""Rich consoles (human output on stdout, progress on stderr) and a progress bar with rate and ETA."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console

# markup off: what is printed is data (names, sentences, ids such as "Beta[red]Ltd"), never rich markup; styles
# are given as styles (``style=``, ``Text``)
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Yields ``update(done, total, info=None)``; draws a bar with rate and ETA on stderr when enabled, and
    ``info`` (e.g. a training loss) after it, kept until the next ``info``."""
    if not enabled:
        yield lambda done, total, info=None: None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    class Rate(TextColumn):
        def __init__(self) -> None:
            super().__init__("")

        def render(self, task):  # items per second, as the issue asks for a rate
            from rich.text import Text
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f}/s" if speed else "", style="progress.data.speed")

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                  Rate(), TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"), console=err,
                  transient=False) as bar:
        task = bar.add_task(description, total=None, info="")

        def update(done: int, total: int, info: str | None = None) -> None:
            bar.update(task, completed=done, total=total, **({} if info is None else {"info": info}))

        yield update


@contextmanager
def training_bar(description: str, enabled: bool = True, dev_name: str = "dev") -> Iterator[Callable[[object], None]]:
    """:func:`progress_bar` for training: yields ``update(progress)`` for a trainer's progress records (``step``,
    ``total_steps``, ``epoch``, ``loss``, and a dev score as ``dev_score`` or ``dev_f1`` after each epoch's
    evaluation), shown as "epoch E  loss L  dev D (epoch K)"; the last dev score stays until the next.
    The bar is drawn at the first record, so an error found before training starts (the data's labels, the
    checkpoint of another run) comes alone, not after an empty "0/?" bar."""
    from contextlib import ExitStack

    last_dev = ""
    with ExitStack() as stack:
        bars: list[Callable[..., None]] = []

        def on_progress(p) -> None:
            nonlocal last_dev
            if not bars:
                bars.append(stack.enter_context(progress_bar(description, enabled)))
            dev = getattr(p, "dev_score", None)
            dev = getattr(p, "dev_f1", None) if dev is None else dev
            if dev is not None:
                last_dev = f"  {dev_name} {dev:.3f} (epoch {p.epoch})"
            bars[0](p.step, p.total_steps, f"epoch {p.epoch}  loss {p.loss:.4f}{last_dev}")

        yield on_progress
