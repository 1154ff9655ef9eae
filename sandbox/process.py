"""`python -m sandbox` in a process of its own, on a free port of 127.0.0.1.

For the benches and tests that need a real network between the client and the supplier
(latency per request, connection pools, keep-alive): the in-process transport has none.
"""

from __future__ import annotations

import os
import re
import subprocess  # noqa: S404 - starts this package's own server for benches and tests
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"Listening on (http://\S+)")


@contextmanager
def served(*options: str) -> Iterator[str]:
    """Start the sandbox with command-line `options` (`--port 0` is added); yields its URL.

    The process is stopped on exit. Start-up lines before "Listening on" are read and
    dropped; a sandbox that exits before it listens raises RuntimeError with its output.
    """
    # The argv is this interpreter and the sandbox module; the options come from the
    # bench or test that calls this, never from outside input.
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "sandbox", "--port", "0", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if process.stdout is None:  # stdout=PIPE always gives one; this tells the type checker
        raise RuntimeError("the sandbox process has no output pipe")
    try:
        seen: list[str] = []
        url = None
        while url is None:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the sandbox exited before it listened:\n" + "".join(seen))
            seen.append(line)
            match = LISTENING.search(line)
            url = match.group(1) if match else None
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
