"""Serve the sandbox on a port: ``python -m sandbox --port 8100``.

Threaded werkzeug server (a connection stays open after a request without a body),
webhook delivery thread running, one log line per request (method, path, status, time;
never the API key or any licence key) unless ``--no-access-log``.
``--port 0`` picks a free port; the URL printed at start says which.
``--latency-ms 50`` makes every /api call take 50 ms longer, as a supplier across a
network would; each request thread waits on its own, so concurrent calls overlap.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler, make_server

from .core import Sandbox
from .faults import ConnectionDropped

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("sandbox")


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, keeping connections alive, with :func:`access_log` instead of
    its own access log.

    werkzeug's development server closes the connection after every answer (and waits
    10 ms for stray request bytes first), because its handler cannot drain an unread
    request body before the next request line. A supplier behind a real web server keeps
    connections open, and a client across a network would otherwise pay a TCP handshake
    (and here a new server thread) per request. So a request without a body (every GET)
    is answered here on a connection that stays open (HTTP/1.1); a request with a body
    goes through werkzeug's own path, which closes it.
    """

    # An idle kept-alive connection frees its thread after this many seconds.
    timeout = 120
    # Headers and body leave in two writes. With Nagle's algorithm on, the body (a small
    # segment) waits for the client to acknowledge the headers, and the client delays that
    # acknowledgement (40 ms on Linux): every small answer on a kept-alive connection took
    # 40 ms more than the latency asked for. Web servers in front of real APIs set
    # TCP_NODELAY on such connections (nginx `tcp_nodelay on`, the default).
    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):
            return  # an idle kept-alive connection ending is not an error
        super().log_error(format, *args)

    def run_wsgi(self) -> None:
        if not self._bodiless():
            super().run_wsgi()
            return
        self.environ = environ = self.make_environ()
        started: list[Any] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return None  # the sandbox's app never uses the legacy write() callable

        try:
            answer = self.server.app(environ, start_response)
            try:
                body = b"".join(answer)
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()
        except ConnectionError as exc:  # a fault ended the request without an answer
            self.connection_dropped(exc, environ)
            self.close_connection = True
            return
        except Exception:
            log.exception("unhandled error on %s %s", self.command, self.path)
            self.close_connection = True
            started[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]]
            body = b"Internal Server Error"
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _bodiless(self) -> bool:
        headers = self.headers
        return (
            self.request_version == "HTTP/1.1"
            and headers.get("Content-Length", "0").strip() in ("", "0")
            and "Transfer-Encoding" not in headers
            and "Expect" not in headers
        )


def access_log(app: WSGIApplication) -> WSGIApplication:
    def logged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = ["-"]

        def capture(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[0] = code.split()[0]
            return start_response(code, headers, exc_info)

        method, path = environ.get("REQUEST_METHOD", "-"), environ.get("PATH_INFO", "-")
        query = environ.get("QUERY_STRING")
        target = f"{path}?{query}" if query else path
        try:
            return app(environ, capture)
        except ConnectionDropped as exc:
            status[0] = f"({exc.kind}: no response)"
            raise
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.1fms", method, target, status[0], elapsed)

    return logged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--api-key", default="sandbox-demo-key")
    parser.add_argument("--balance", type=Decimal, default=Decimal("5000.00"))
    parser.add_argument("--tier", default="Gold")
    parser.add_argument("--discount", type=Decimal, default=Decimal("30.00"), help="percent")
    parser.add_argument("--variant-ratio", type=float, default=1 / 3)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="milliseconds added to each /api call, per request (calls wait side by side)",
    )
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of /api calls -> 5xx")
    parser.add_argument(
        "--rate-limit-rate", type=float, default=0.0, help="share of /api calls -> 429"
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one log line per request (the demo turns it off: --no-access-log)",
    )
    parser.add_argument(
        "--drift",
        action="store_true",
        help="serve the answers bent as a real supplier might (1/0 booleans, money as "
        "numbers, epoch timestamps, keys as objects, ledger renamed) and a few broken records",
    )
    args = parser.parse_args(argv)
    # UTC timestamps: the log must read the same whatever TZ the host (or Django) sets.
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter("%(asctime)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])

    started = time.perf_counter()
    sandbox = Sandbox(
        products=args.products,
        seed=args.seed,
        api_key=args.api_key,
        balance=args.balance,
        tier=args.tier,
        discount=args.discount,
        variant_ratio=args.variant_ratio,
        latency_ms=args.latency_ms,
        fail_rate=args.fail_rate,
        rate_limit_rate=args.rate_limit_rate,
        drift=args.drift,
    )
    generated = time.perf_counter() - started
    server = make_server(
        args.host,
        args.port,
        access_log(sandbox.app) if args.access_log else sandbox.app,
        threaded=True,
        request_handler=_Handler,
    )
    sandbox.start_delivery_thread()
    url = f"http://{args.host}:{server.server_port}"
    print(
        f"Licendi sandbox: {len(sandbox.catalog)} products, "
        f"{sandbox.catalog.combination_count()} combinations (seed {args.seed}) "
        f"generated in {generated:.2f}s",
        flush=True,
    )
    print(f"Listening on {url}", flush=True)
    print(f"API key: {args.api_key}", flush=True)
    if sandbox.drift is not None:
        broken = ", ".join(f"{sku} ({why})" for sku, why in sandbox.drift.broken.items())
        print(f"Drifting answers; broken records: {broken or 'none'}", flush=True)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop_delivery_thread()
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
