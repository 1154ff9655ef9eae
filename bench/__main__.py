"""`python -m bench`: every registered comparison in one process run, one table of ratios.

    .venv/bin/python -m bench                      # everything
    .venv/bin/python -m bench --only catalog,ledger
    .venv/bin/python -m bench --list

Comparisons live in `bench/*_compare.py` and register themselves with
`bench.harness.comparison` (see that module). The run uses its own PostgreSQL database
(`DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/bench), created and migrated
here; each comparison fills the tables it needs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"


def load_comparisons() -> None:
    """Import every `bench/*_compare.py`: importing registers its comparisons."""
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.endswith("_compare"):
            importlib.import_module(f"bench.{module.name}")


def main(argv: list[str] | None = None) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
    import django

    django.setup()
    from bench import harness

    load_comparisons()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated comparison names")
    parser.add_argument("--list", action="store_true", help="list the comparisons and exit")
    parser.add_argument(
        "--rounds", type=int, default=30, help="interleaved rounds per timed pair (default 30)"
    )
    for flags, kwargs in harness.OPTIONS:
        parser.add_argument(*flags, **kwargs)
    args = parser.parse_args(argv)

    if args.list:
        for name, entry in sorted(harness.REGISTRY.items()):
            print(f"{name:<12} {entry.help}")
        return 0
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in harness.REGISTRY]
    if unknown:
        parser.error(f"unknown comparison(s) {', '.join(unknown)}; --list shows them")
    selected = wanted or sorted(harness.REGISTRY)

    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from bench.common import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    setup_test_environment()  # the test Client may use "testserver" and records contexts
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)

    ctx = harness.Context(args=args, rounds=args.rounds)
    rows: list[tuple[str, harness.Result]] = []
    started = time.perf_counter()
    for name in selected:
        print(f"… {name}", file=sys.stderr, flush=True)
        rows.extend((name, result) for result in harness.REGISTRY[name].run(ctx))
    print(harness.format_table(rows))
    print()
    for line in ctx.notes:
        print(f"- {line}")
    load = os.getloadavg()
    print(
        f"- {args.rounds} interleaved rounds per timed pair; ratio = project ÷ reference. "
        f"Run took {time.perf_counter() - started:.0f} s; load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs; database "
        f"{settings.DATABASES['default']['NAME']}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
