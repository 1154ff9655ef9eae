"""Instructions per delivery, receiver and floor, through the WSGI handler, in one process.

Run:  valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=var/cg/out.%p \\
          .venv/bin/python bench/webhooks_callgrind.py [--phases 3] [--per-phase 200]
      .venv/bin/python bench/webhooks_callgrind.py --report var/cg/out.<pid>

Wall-clock figures of the two views move with whatever else the cores run; the number of
instructions a process executes for the same requests does not. This script sends the
same kind of deliveries as bench/webhooks_compare.py (fresh event ids, 1 or 2 keys) to the
project's receiver (/hooks/licendi) and to the floor (/bench/floor, bench/webhooks_floor.py)
through Django's WSGI handler with the bench's settings (bench/webhooks_settings.py: the
same middleware and URLconf as the gunicorn of the comparison), in alternating phases,
after a warm-up of each. Every phase is framed by a call of `os.getppid()`, which
callgrind is told to dump its counters before (`--dump-before=getppid`): each dump then
holds exactly one phase (requests are signed and built before it starts), and `--report`
prints the instructions per delivery of each phase from those dumps.

The instructions are the Python process's (the view, the middleware, the driver, libpq);
PostgreSQL's work runs in its own process and is not counted. The drain request (a
thread per process, WEBHOOK_DRAIN_QUEUE_SECONDS), the database connection's age
(CONN_MAX_AGE) and the secrets' cache (WEBHOOK_SECRET_CACHE_SECONDS) are set longer than
the run, so they are paid once, before the phases, and not in proportion to valgrind's
slowness.

Without valgrind the script runs the same phases and prints the CPU time per delivery
(a quick check of the setup, not a figure to compare); `--profile receiver` (or `floor`)
prints that target's cProfile statistics over its phases (call counts per delivery).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_webhooks as hooks  # noqa: E402 - after the path is set

TARGETS = {"receiver": "/hooks/licendi", "floor": "/bench/floor"}


def phase_mark() -> None:
    """The phase boundary callgrind dumps its counters before (--dump-before=getppid)."""
    os.getppid()


def phase_order(phase: int) -> tuple[str, str]:
    """Receiver then floor, floor then receiver, ...: neither always runs first."""
    return ("receiver", "floor") if phase % 2 == 0 else ("floor", "receiver")


def environ(path: str, body: bytes, headers: dict[str, str]) -> dict:
    """A WSGI environ of a signed POST, as gunicorn hands it to Django."""
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def send(application, environs: list[dict]) -> list[str]:
    """Each request through the handler; the answers' status lines."""
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info=None) -> None:
        statuses.append(status)

    for env in environs:
        response = application(env, start_response)
        b"".join(response)
        response.close()
    return statuses


def settle_drain_requests() -> None:
    """Load Celery's task modules and the broker connection here, before any phase.

    The first drain request of a process (from its drain-request thread) would otherwise
    import them while a phase runs, and its instructions would count in that phase."""
    from backoffice.celery import app as celery_app
    from webhooks.services.deliveries import drain_soon

    celery_app.loader.import_default_modules()
    drain_soon()


def run(args: argparse.Namespace) -> int:
    database_url = os.environ.get("DATABASE_URL", hooks.DEFAULT_URL)
    broker_url = os.environ.get("BENCH_BROKER_URL", hooks.DEFAULT_BROKER)
    os.environ.update(hooks.bench_environment(database_url, broker_url))
    # Longer than the run, so what expires with time (the drain request's interval, the
    # database connection, the secrets' cache) is paid once before the phases, not once
    # per so many seconds of valgrind's slowness.
    for name in ("WEBHOOK_DRAIN_QUEUE_SECONDS", "CONN_MAX_AGE", "WEBHOOK_SECRET_CACHE_SECONDS"):
        os.environ[name] = "86400"
    from bench.common import ensure_database

    ensure_database(database_url)
    per_target = args.warm + args.phases * args.per_phase
    secret, events, _ = hooks.prepare(SimpleNamespace(unique=per_target, seed=args.seed))
    from bench.webhooks_compare import create_floor_table

    create_floor_table()

    from django.core.wsgi import get_wsgi_application

    from licendi.webhooks import signature_headers

    application = get_wsgi_application()

    def requests(target: str, chosen: list[dict]) -> list[dict]:
        suffix = "" if target == "receiver" else "_floor"
        now = int(time.time())
        built = []
        for event in chosen:
            body = json.dumps({**event, "id": event["id"] + suffix}, separators=(",", ":"))
            encoded = body.encode()
            headers = signature_headers(secret, event["id"] + suffix, now, encoded)
            built.append(environ(TARGETS[target], encoded, headers))
        return built

    warm, events = events[: args.warm], events[args.warm :]
    settle_drain_requests()
    for target in TARGETS:
        statuses = send(application, requests(target, warm))
        if set(statuses) != {"200 OK"}:
            raise SystemExit(f"{target} warm-up answered {sorted(set(statuses))}")
    # The drain-request thread's one call (woken by the warm-up) is over before a phase.
    time.sleep(2)
    profiles: list[cProfile.Profile] = []
    print("phase target deliveries cpu_us_per_delivery", flush=True)
    for phase in range(args.phases):
        chosen = events[phase * args.per_phase : (phase + 1) * args.per_phase]
        for target in phase_order(phase):
            built = requests(target, chosen)
            profiler = cProfile.Profile() if target == args.profile else None
            phase_mark()
            started = time.process_time()
            if profiler is not None:
                profiler.enable()
            statuses = send(application, built)
            if profiler is not None:
                profiler.disable()
                profiles.append(profiler)
            cpu = time.process_time() - started
            phase_mark()
            if set(statuses) != {"200 OK"}:
                raise SystemExit(f"{target} answered {sorted(set(statuses))}")
            print(f"{phase} {target} {len(built)} {cpu / len(built) * 1e6:.0f}", flush=True)
    if profiles:
        stats = pstats.Stats(profiles[0])
        for profiler in profiles[1:]:
            stats.add(profiler)
        stats.sort_stats(args.sort).print_stats(args.lines)
    from django.core.cache import cache

    from backoffice.celery import app as celery_app
    from webhooks.services.deliveries import DRAIN_PENDING_KEY

    celery_app.control.purge()
    cache.delete(DRAIN_PENDING_KEY)
    return 0


_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


def report(out: Path, per_phase: int) -> int:
    """Instructions per delivery of each measured phase, from the dumps of one run.

    Dump 1 holds the setup, then every even dump one phase and every odd one the building
    of the next phase's requests."""
    dumps = sorted(out.parent.glob(out.name + ".*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    counts = []
    for dump in dumps:
        found = _TOTALS.search(dump.read_text(errors="replace"))
        counts.append(int(found.group(1)) if found else 0)
    measured = counts[1::2]
    targets = [target for phase in range(len(measured) // 2) for target in phase_order(phase)]
    per_target: dict[str, list[float]] = {}
    for target, count in zip(targets, measured, strict=False):
        per_target.setdefault(target, []).append(count / per_phase / 1e6)
    for target, figures in per_target.items():
        print(f"{target}: " + ", ".join(f"{f:.3f}" for f in figures) + " M instructions/delivery")
    if {"receiver", "floor"} <= per_target.keys():
        # Medians: a phase now and then also pays a full garbage collection of the process.
        receiver, floor = (statistics.median(per_target[name]) for name in ("receiver", "floor"))
        print(f"medians: receiver {receiver:.3f}, floor {floor:.3f}, ratio {receiver / floor:.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", type=int, default=3, help="phases of each target")
    parser.add_argument("--per-phase", type=int, default=200, help="deliveries per phase")
    parser.add_argument("--warm", type=int, default=50, help="warm-up deliveries per target")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=TARGETS, help="cProfile this target's phases")
    parser.add_argument("--sort", default="tottime", help="pstats order of --profile")
    parser.add_argument("--lines", type=int, default=60, help="rows of --profile")
    parser.add_argument("--report", type=Path, help="read the dumps of a run under callgrind")
    args = parser.parse_args(argv)
    if args.report:
        return report(args.report, args.per_phase)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
