"""Webhook acknowledgements: the project's receiver against the floor, side by side.

Run:  .venv/bin/python bench/webhooks_compare.py [--clients 16 64] [--rounds 3]
                                                [--per-round 1500] [--web-workers 4]

The floor is a bare Django view (bench/webhooks_floor.py) served by the same gunicorn
workers as the receiver: it verifies the Standard Webhooks HMAC and INSERTs the body as
one row. Both get the same deliveries (fresh event ids for each), signed at send time,
over the same number of keep-alive connections to 127.0.0.1 (one asyncio loop writing
HTTP/1.1 by hand, so the load generator takes little of the cores the servers share;
`--client httpx` sends from a thread per connection instead), in interleaved rounds
(project then floor, floor then project, ...), at each client count.

Then:
- the cost of each step of one acknowledgement, timed in this process over the same
  bodies (signature verify with the cached verifier, parse and encrypt the keys, the
  INSERT with its drain request, that request alone, and for comparison the cache flag
  and the Celery publish that deliveries paid before);
- the Celery worker is started on the stored backlog and the events applied per second
  are measured from the first to the last `processed_at`;
- the database is checked: every event stored once, applied once, every key stored once.

Setup (database, gunicorn, signing, the worker) is bench/bench_webhooks.py's.
Exits non-zero when a check fails. `--json PATH` also writes the figures.

`python -m bench --only webhooks` runs this script in a process of its own (its gunicorn
and worker need settings of their own, not the harness's) on the database
`bench_webhooks` next to the harness's, and shows its figures in the harness table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_webhooks as hooks  # noqa: E402 - after the path is set
from bench.harness import Context, Result, comparison, option  # noqa: E402

option("--webhooks-clients", type=int, nargs="+", default=[16, 64], help="webhook client threads")
option("--webhooks-rounds", type=int, default=3, help="interleaved webhook rounds per count")
option("--webhooks-per-round", type=int, default=1000, help="webhook deliveries per round")
option(
    "--webhooks-client",
    choices=hooks.CLIENT_KINDS,
    default="raw",
    help="how webhook deliveries are sent (see bench/bench_webhooks.py)",
)

FLOOR_PATH = "/bench/floor"
RECEIVER_PATH = "/hooks/licendi"


def create_floor_table() -> None:
    from django.db import connection

    from bench.webhooks_floor import FLOOR_TABLE

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id bigserial PRIMARY KEY, "
            "event_id varchar(255) NOT NULL UNIQUE, payload jsonb NOT NULL, "
            "received_at timestamptz NOT NULL)"
        )
        cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
    connection.close()


def group_cpu_seconds(pgid: int) -> float | None:
    """User + system CPU seconds of every live process in a process group (Linux /proc:
    gunicorn's master and workers, started in a session of their own); None elsewhere."""
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def ms(seconds: float) -> float:
    return seconds * 1000


def time_steps(secret: str, bodies: list[bytes]) -> dict[str, float]:
    """Median microseconds of each step of an acknowledgement, in this process."""
    from django.core.cache import cache

    from backoffice.celery import app as celery_app
    from licendi.webhooks import signature_headers
    from webhooks import receiver
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_event_record
    from webhooks.services.deliveries import DRAIN_PENDING_KEY, PROCESS_TASK, _drain_requests

    celery_app.loader.import_default_modules()
    from django.db import connection

    from bench.webhooks_floor import FLOOR_TABLE

    steps: dict[str, list[float]] = {
        k: []
        for k in (
            "verify",
            "parse",
            "insert (with the drain request)",
            "drain request (per delivery)",
            "for comparison: drain flag (cache.add)",
            "for comparison: celery publish",
            "floor's insert",
        )
    }
    recorded = []
    for body in bodies:
        headers = signature_headers(secret, json.loads(body)["id"], int(time.time()), body)
        started = time.perf_counter()
        receiver.verify(headers, body)
        steps["verify"].append(time.perf_counter() - started)
        started = time.perf_counter()
        delivery = receiver.parse(headers, body)
        steps["parse"].append(time.perf_counter() - started)
        cache.set(DRAIN_PENDING_KEY, 1, timeout=60)  # a drain is pending: nothing is queued
        started = time.perf_counter()
        pk, _ = webhook_event_record(delivery=delivery)
        steps["insert (with the drain request)"].append(time.perf_counter() - started)
        recorded.append(pk)
        started = time.perf_counter()
        _drain_requests.delivered()
        steps["drain request (per delivery)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        cache.add(DRAIN_PENDING_KEY, 1, timeout=10)
        steps["for comparison: drain flag (cache.add)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        celery_app.tasks[PROCESS_TASK].apply_async(kwargs={"event_pk": pk})
        steps["for comparison: celery publish"].append(time.perf_counter() - started)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {FLOOR_TABLE} (event_id, payload, received_at) "  # noqa: S608
                "VALUES (%s, %s::jsonb, now()) ON CONFLICT (event_id) DO NOTHING RETURNING id",
                [delivery.event_id + "_step", body.decode()],
            )
            cursor.fetchone()
        steps["floor's insert"].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) * 1e6 for name, values in steps.items()}
    time.sleep(1)  # the last drain request's timer, if any, fires before the purge below
    WebhookEvent.objects.filter(pk__in=recorded).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
    celery_app.control.purge()
    cache.delete(DRAIN_PENDING_KEY)
    return medians


def run_round(
    port: int,
    secret: str,
    bodies: list[bytes],
    clients: int,
    deadline: float,
    path: str,
    client: str = "raw",
):
    results, wall = hooks.send_all(
        port, secret, bodies, clients, deadline, path=path, client=client
    )
    acked = [r for r in results if r[0] == 200]
    refused = [f"{status} {detail}".strip() for status, _, detail in results if status != 200]
    return len(acked), wall, [ms(r[1]) for r in acked], refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument(
        "--client", choices=hooks.CLIENT_KINDS, default="raw", help="how deliveries are sent"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per count")
    parser.add_argument("--per-round", type=int, default=1500, help="deliveries per round")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--steps", type=int, default=300, help="deliveries timed step by step")
    parser.add_argument("--timeout", type=float, default=900.0, help="overall bound, seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout

    database_url = os.environ.get("DATABASE_URL", hooks.DEFAULT_URL)
    broker_url = os.environ.get("BENCH_BROKER_URL", hooks.DEFAULT_BROKER)
    env = hooks.bench_environment(database_url, broker_url)
    os.environ.update(env)
    from bench.common import ensure_database

    ensure_database(database_url)
    # Before the timed rounds each target answers a few real deliveries per gunicorn
    # thread, so that every thread has opened its database connection and loaded what it
    # loads lazily (the secrets' verifier) for both targets, not for the first one timed.
    warm = args.web_workers * args.web_threads * 4
    sends = args.rounds * len(args.clients) * args.per_round + warm
    secret, events, _ = hooks.prepare(SimpleNamespace(unique=sends + args.steps, seed=args.seed))
    create_floor_table()

    from backoffice.celery import app as celery_app

    celery_app.control.purge()
    bodies = [json.dumps(e, separators=(",", ":")).encode() for e in events]
    step_bodies, bodies = bodies[: args.steps], bodies[args.steps :]
    floor_bodies = [
        json.dumps({**e, "id": e["id"] + "_floor"}, separators=(",", ":")).encode()
        for e in events[args.steps :]
    ]
    keys_of = {e["id"]: len(e["data"].get("keys", [])) or 1 for e in events[args.steps :]}

    summary: dict = {"rows": [], "applied_per_s": None}
    summary["steps"] = time_steps(secret, step_bodies)
    print(f"steps of one acknowledgement (median of {args.steps}, in process, microseconds):")
    for name, value in summary["steps"].items():
        print(f"  {name:40} {value:8.0f}")

    port = hooks.free_port()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    web = hooks.start_gunicorn(env, port, args.web_workers, args.web_threads, logs)
    worker = None
    rows = []
    # Deliveries not answered 200, by target and kind (a sender would retry them).
    failed: dict[str, Counter[str]] = {"project": Counter(), "floor": Counter()}
    acked_project = 0
    try:
        hooks.wait_for_port(port, min(deadline, time.monotonic() + 60))
        hooks.warm_up(port, args.web_workers * 4, deadline)
        for name, path, warm_bodies in (
            ("project", RECEIVER_PATH, bodies[-warm:]),
            ("floor", FLOOR_PATH, floor_bodies[-warm:]),
        ):
            acked, _, _, refused = run_round(
                port, secret, warm_bodies, max(args.clients), deadline, path, args.client
            )
            failed[name].update(refused)
            if name == "project":
                acked_project += acked
        print(
            f"\ngunicorn {args.web_workers} workers x {args.web_threads} threads, "
            f"127.0.0.1:{port}; "
            f"{args.rounds} interleaved rounds of {args.per_round} deliveries per target, "
            f"sent by the {args.client!r} client"
        )
        offset = 0
        for clients in args.clients:
            totals = {
                name: {"acked": 0, "wall": 0.0, "lat": [], "cpu": 0.0}
                for name in ("project", "floor")
            }
            for round_no in range(args.rounds):
                chunk = slice(offset, offset + args.per_round)
                offset += args.per_round
                plan = [
                    ("project", RECEIVER_PATH, bodies[chunk]),
                    ("floor", FLOOR_PATH, floor_bodies[chunk]),
                ]
                if round_no % 2:
                    plan.reverse()
                for name, path, chunk_bodies in plan:
                    cpu_before = group_cpu_seconds(web.pid)
                    acked, wall, latencies, refused = run_round(
                        port, secret, chunk_bodies, clients, deadline, path, args.client
                    )
                    cpu_after = group_cpu_seconds(web.pid)
                    if cpu_before is not None and cpu_after is not None:
                        totals[name]["cpu"] += cpu_after - cpu_before
                    failed[name].update(refused)
                    if name == "project":
                        acked_project += acked
                    totals[name]["acked"] += acked
                    totals[name]["wall"] += wall
                    totals[name]["lat"] += latencies
            figures = {}
            for name, t in totals.items():
                figures[name] = (
                    t["acked"] / t["wall"],
                    statistics.median(t["lat"]),
                    hooks.percentile(t["lat"], 0.99),
                )
            # The web processes' own CPU per acknowledgement: what each view costs, whatever
            # else the machine runs (its wall-clock figures above are not).
            cpu_ms = {
                name: 1000 * t["cpu"] / t["acked"] if t["acked"] and t["cpu"] else None
                for name, t in totals.items()
            }
            rows.append((clients, figures, cpu_ms))
            summary["rows"].append({"clients": clients, **figures, "cpu_ms": cpu_ms})

        print(
            f"\n{'clients':>7} | {'project acks/s':>14} | {'p50 ms':>6} | {'p99 ms':>6} | "
            f"{'floor acks/s':>12} | {'p50 ms':>6} | {'p99 ms':>6} | {'of floor':>8} | "
            f"web CPU ms/ack project / floor"
        )
        for clients, f, cpu_ms in rows:
            (pa, p50, p99), (fa, f50, f99) = f["project"], f["floor"]
            cpu = " / ".join("-" if v is None else f"{v:.2f}" for v in cpu_ms.values())
            print(
                f"{clients:>7} | {pa:>14.0f} | {p50:>6.1f} | {p99:>6.1f} | {fa:>12.0f} | "
                f"{f50:>6.1f} | {f99:>6.1f} | {pa / fa:>7.0%} | {cpu}"
            )
        for name, kinds in failed.items():
            if kinds:
                print(f"not acknowledged by the {name}: {dict(kinds)}")

        from django.db.models import Max, Min

        from webhooks.models import WebhookEvent
        from webhooks.services import webhook_events_drain

        stored = WebhookEvent.objects.count()
        worker = hooks.start_celery_worker(env, args.worker_concurrency, logs)
        wall, _ = hooks.wait_until_applied(deadline)
        leftover = WebhookEvent.objects.filter(status="received").count()
        webhook_events_drain()
        span = WebhookEvent.objects.aggregate(first=Min("processed_at"), last=Max("processed_at"))
        seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0
        summary["applied_per_s"] = (stored - leftover) / max(seconds, 1e-9)
        summary["worker_concurrency"] = args.worker_concurrency
        summary["web"] = f"{args.web_workers}x{args.web_threads}"
        summary["client"] = args.client
        print(
            f"\nworker ({args.worker_concurrency} processes) applied {stored - leftover} events: "
            f"{(stored - leftover) / max(seconds, 1e-9):.0f} events/s from first to last "
            f"processed_at ({seconds:.1f} s; {wall:.1f} s including the worker's start-up); "
            f"{leftover} left to the in-process drain"
        )
    finally:
        hooks.stop(web)
        if worker is not None:
            hooks.stop(worker)
        celery_app.control.purge()

    # A delivery whose answer was lost may still be stored: the events to check are the
    # ones stored, at least every acknowledged one and at most every one sent.
    from webhooks.models import WebhookEvent

    stored_ids = set(WebhookEvent.objects.values_list("event_id", flat=True))
    problems = hooks.verify(len(stored_ids), 0, sum(keys_of.get(i, 0) for i in stored_ids))
    if not acked_project <= len(stored_ids) <= sends or not stored_ids <= keys_of.keys():
        problems.append(f"{len(stored_ids)} events stored for {acked_project} acknowledged")
    summary["problems"] = problems
    summary["not_acknowledged"] = {name: sum(kinds.values()) for name, kinds in failed.items()}
    if args.json:
        args.json.write_text(json.dumps(summary))
    if problems:
        print("FAILED:", "; ".join(problems))
        return 1
    print("OK: every stored event applied once; every key stored once")
    return 0


@comparison("webhooks")
def webhooks(ctx: Context) -> list[Result]:
    """Webhook acknowledgements vs a bare HMAC + INSERT view on the same gunicorn."""
    import subprocess
    import tempfile

    # A database of its own beside the harness's (bench -> bench_webhooks).
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"] + "_webhooks"}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "webhooks.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--json",
            str(out),
            "--rounds",
            str(ctx.args.webhooks_rounds),
            "--per-round",
            str(ctx.args.webhooks_per_round),
            "--clients",
            *map(str, ctx.args.webhooks_clients),
            "--client",
            ctx.args.webhooks_client,
        ]
        subprocess.run(command, env=env, check=False, stdout=sys.stderr)
        if not out.exists():
            raise RuntimeError("bench/webhooks_compare.py wrote no figures (see its output above)")
        summary = json.loads(out.read_text())
    return results_of(ctx, summary)


def results_of(ctx: Context, summary: dict) -> list[Result]:
    floor = "bare HMAC + INSERT view, same gunicorn"
    results = []
    for row in summary["rows"]:
        (acks, p50, p99), (floor_acks, floor_p50, floor_p99) = row["project"], row["floor"]
        clients = row["clients"]
        results.append(
            Result(
                f"acknowledgements/s, {clients} clients",
                acks,
                floor_acks,
                "req/s",
                better="higher",
                reference_label=floor,
                note=f"p50 {p50:.0f} ms vs {floor_p50:.0f} ms",
            )
        )
        results.append(
            Result(
                f"ack latency p99, {clients} clients", p99, floor_p99, "ms", reference_label=floor
            )
        )
        cpu_ms = row.get("cpu_ms") or {}
        if cpu_ms.get("project") and cpu_ms.get("floor"):
            results.append(
                Result(
                    f"gunicorn CPU per acknowledgement, {clients} clients",
                    cpu_ms["project"],
                    cpu_ms["floor"],
                    "ms",
                    reference_label=floor,
                    note="user + system time of the web processes over the rounds",
                )
            )
    results.append(
        Result(
            "events applied by the worker",
            summary["applied_per_s"],
            None,
            "events/s",
            better="higher",
            note=f"{summary.get('worker_concurrency')} worker processes",
        )
    )
    steps = ", ".join(f"{name} {value:.0f} µs" for name, value in summary["steps"].items())
    ctx.note(f"webhooks: one acknowledgement step by step (in process, medians): {steps}")
    ctx.note(
        f"webhooks: gunicorn {summary.get('web')} (workers x threads), 127.0.0.1; deliveries "
        f"sent by the {summary.get('client', 'httpx')!r} client (bench/bench_webhooks.py)"
    )
    lost = {name: n for name, n in summary.get("not_acknowledged", {}).items() if n}
    if lost:
        ctx.note(f"webhooks: deliveries not answered 200 (a sender retries them): {lost}")
    if summary["problems"]:
        ctx.note(f"webhooks: CHECKS FAILED: {'; '.join(summary['problems'])}")
    return results


if __name__ == "__main__":
    sys.exit(main())
