"""The comparison harness behind `python -m bench`: a registry, a result row, timing helpers.

A comparison is a function registered by name that returns `Result` rows, each a figure of
this project next to a reference measured in the same process run (the Django admin
changelist of the same rows, a naive implementation, a bare floor). Modules named
`bench/*_compare.py` are imported by `python -m bench`, so registering is all a new
comparison needs:

    from bench.harness import Context, Result, comparison, option

    option("--deliveries", type=int, default=5000, help="webhook deliveries per round")

    @comparison("webhooks")
    def webhooks(ctx: Context) -> list[Result]:
        ...
        return [Result("acknowledgements, 16 clients", 557.0, 1152.0, "req/s", better="higher")]

`ctx.args` holds every option (all modules' options share one parser, so names must not
clash: prefix them with the comparison's name when in doubt); `ctx.rounds` is the number of
interleaved rounds asked for. `interleaved()` times two callables in alternating rounds,
which is how a ratio stays fair on a machine whose load changes while it runs.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Result:
    """One line of the table: the project's figure, the reference's, and their unit.

    `better` says which way is good ("lower" for times, "higher" for throughputs); the
    ratio is always project ÷ reference, so a time ratio of 0.8 is the project being faster.
    """

    label: str
    project: float
    reference: float | None
    unit: str
    better: Literal["lower", "higher"] = "lower"
    project_p95: float | None = None
    reference_p95: float | None = None
    reference_label: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference is None or self.reference == 0:
            return None
        return self.project / self.reference

    @property
    def meets_reference(self) -> bool | None:
        """Whether the project is at least as good as the reference (None: no reference)."""
        ratio = self.ratio
        if ratio is None:
            return None
        return ratio <= 1.0 if self.better == "lower" else ratio >= 1.0


@dataclass
class Context:
    """What a comparison is given: the parsed options and the run's common settings."""

    args: argparse.Namespace
    rounds: int
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """A line printed under the table (data sizes, what the reference is)."""
        self.notes.append(text)


ComparisonFn = Callable[[Context], Iterable[Result]]


@dataclass(frozen=True)
class Comparison:
    name: str
    run: ComparisonFn
    help: str


REGISTRY: dict[str, Comparison] = {}
OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = []


def comparison(name: str) -> Callable[[ComparisonFn], ComparisonFn]:
    """Register the decorated function as the comparison `name` (`--only name` selects it)."""

    def register(fn: ComparisonFn) -> ComparisonFn:
        if name in REGISTRY:
            raise ValueError(f"comparison {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Comparison(name=name, run=fn, help=doc[0] if doc else "")
        return fn

    return register


def option(*flags: str, **kwargs: Any) -> None:
    """Declare a command-line option (argparse arguments) for the comparisons of a module."""
    OPTIONS.append((flags, kwargs))


# Timing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Samples in milliseconds, with the statistics the table shows."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed_ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def interleaved(
    project: Callable[[], object],
    reference: Callable[[], object],
    *,
    rounds: int,
    warmup: int = 2,
) -> tuple[Timing, Timing]:
    """Time both callables in alternating rounds (which goes first alternates too).

    After the warm-up everything the process holds is frozen out of the collector's full
    passes, as `backoffice/wsgi.py` does in a web process once it has loaded: otherwise
    a full pass over the bench's own data sets lands in whichever round triggers it.
    """
    for _ in range(warmup):
        project()
        reference()
    gc.collect()
    gc.freeze()
    ours: list[float] = []
    theirs: list[float] = []
    for i in range(rounds):
        if i % 2:
            theirs.append(timed_ms(reference))
            ours.append(timed_ms(project))
        else:
            ours.append(timed_ms(project))
            theirs.append(timed_ms(reference))
    return Timing(tuple(ours)), Timing(tuple(theirs))


def timed_pair(
    label: str,
    project: Callable[[], object],
    reference: Callable[[], object],
    *,
    rounds: int,
    reference_label: str = "",
    note: str = "",
) -> Result:
    """A `Result` in milliseconds (medians, with p95) from `interleaved()` rounds."""
    ours, theirs = interleaved(project, reference, rounds=rounds)
    return Result(
        label=label,
        project=ours.median,
        reference=theirs.median,
        unit="ms",
        project_p95=ours.p95,
        reference_p95=theirs.p95,
        reference_label=reference_label,
        note=note,
    )


# Output -----------------------------------------------------------------------------


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.1f} ms"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}"


def format_table(rows: list[tuple[str, Result]]) -> str:
    """A Markdown table (it is pasted as is into the README's Performance section)."""
    header = (
        "| comparison | work | project (median / p95) | reference | reference (median / p95) "
        "| ratio |"
    )
    lines = [header, "|---|---|---|---|---|---|"]
    for name, r in rows:
        ours = _figure(r.project, r.unit)
        if r.project_p95 is not None:
            ours += f" / {_figure(r.project_p95, r.unit)}"
        theirs = _figure(r.reference, r.unit)
        if r.reference_p95 is not None:
            theirs += f" / {_figure(r.reference_p95, r.unit)}"
        ratio = r.ratio
        shown = "—" if ratio is None else f"{ratio:.2f}x"
        if r.meets_reference is False:
            shown += " (worse)"
        label = r.label + (f" ({r.note})" if r.note else "")
        lines.append(f"| {name} | {label} | {ours} | {r.reference_label} | {theirs} | {shown} |")
    return "\n".join(lines)
