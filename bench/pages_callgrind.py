"""Instructions per list page, the project's and the admin changelist's, in one process.

Run (on a database the list comparisons filled, e.g. after `python -m bench --only
catalog,ledger,orders --rounds 1`):

    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=var/cg/pages.%p \\
        .venv/bin/python bench/pages_callgrind.py [--pages catalog,po_list] [--per-phase 10]
    .venv/bin/python bench/pages_callgrind.py --report var/cg/pages.<pid> [same --pages]

Wall-clock server times (`python -m bench`) move with whatever else the machine runs;
the instructions a process executes for the same pages do not, so a change to a list is
judged by them. Each page is requested through Django's test Client as a superuser, as
`bench/catalog_compare.py` does: a few times to warm it up (caches, the list cache's
values), then `--per-phase` times inside a phase framed by `os.getppid()` calls, which
callgrind is told to dump its counters before. `--report` reads the dumps and prints the
instructions per page of each phase. Only the Python process is counted (Django, the
driver, libpq), not PostgreSQL's or Redis's own work. Without valgrind the script runs
the same phases and prints the CPU time per page (a check of the setup, not a figure).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# name: (URL or "admin:<app.Model>", query)
PAGES: dict[str, tuple[str, dict[str, str]]] = {
    "catalog": ("/catalog/", {}),
    "catalog_margin": ("/catalog/", {"sort": "margin_percent"}),
    "catalog_search": ("/catalog/", {"q": "windows 11"}),
    "admin_catalog": ("admin:catalog.Combination", {}),
    "admin_catalog_search": ("admin:catalog.Combination", {"q": "windows 11"}),
    "ledger": ("/wallet/ledger/", {}),
    "admin_ledger": ("admin:wallet.LedgerEntry", {}),
    "po_list": ("/orders/", {}),
    "admin_po_list": ("admin:orders.PurchaseOrder", {}),
}


def phase_mark() -> None:
    """The phase boundary callgrind dumps its counters before (--dump-before=getppid)."""
    os.getppid()


def _url(target: str) -> str:
    if not target.startswith("admin:"):
        return target
    from django.apps import apps

    from bench.catalog_compare import admin_changelist

    model = apps.get_model(target.removeprefix("admin:"))
    # As the list comparisons set it: 50 rows, the catalog searching the product name.
    search = ("product__name",) if model._meta.label == "catalog.Combination" else None
    return admin_changelist(model, search_fields=search)


def run(names: list[str], per_phase: int, warm: int) -> int:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    from bench.catalog_compare import bench_client, page

    setup_test_environment()  # the test Client may use "testserver"
    settings.DEBUG = False
    client = bench_client()
    plans: list[tuple[str, str, dict[str, Any]]] = [
        (name, _url(PAGES[name][0]), PAGES[name][1]) for name in names
    ]
    for _name, url, query in plans:
        page(client, url, query)  # every page once: what is loaded on first use
    gc.collect()
    gc.freeze()  # as backoffice/wsgi.py does in a web process
    print("page per_phase cpu_ms_per_page")
    for name, url, query in plans:
        for _ in range(warm):
            page(client, url, query)
        phase_mark()
        started = time.process_time()
        for _ in range(per_phase):
            page(client, url, query)
        spent = time.process_time() - started
        phase_mark()
        print(f"{name} {per_phase} {1000 * spent / per_phase:.1f}")
    return 0


_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


def report(out: Path, names: list[str], per_phase: int) -> int:
    """Instructions per page of each phase: dump 1 holds the setup, then each even dump
    one page's phase and each odd one the next page's warm-up."""
    dumps = sorted(out.parent.glob(out.name + ".*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    counts = []
    for dump in dumps:
        found = _TOTALS.search(dump.read_text(errors="replace"))
        counts.append(int(found.group(1)) if found else 0)
    measured = dict(zip(names, counts[1::2], strict=False))
    for name, count in measured.items():
        print(f"{name:22} {count / per_phase / 1e6:8.2f} M instructions/page")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names")
    parser.add_argument("--per-phase", type=int, default=10, help="requests per phase")
    parser.add_argument("--warm", type=int, default=3, help="warm-up requests before a phase")
    parser.add_argument("--report", type=Path, help="read the dumps of a run under callgrind")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = sorted(set(names) - PAGES.keys())
    if unknown:
        parser.error(f"unknown page(s) {', '.join(unknown)}; known: {', '.join(PAGES)}")
    if args.report:
        return report(args.report, names, args.per_phase)
    return run(names, args.per_phase, args.warm)


if __name__ == "__main__":
    raise SystemExit(main())
