"""Start and steer the offline Meshy sandbox from tests, benchmarks and the demo.

The sandbox is a real HTTP server in its own process (``scripts/meshy_sandbox.py``);
this module starts it, reads its ``MESHY_BASE_URL=…`` line and talks to its
``/_sandbox/*`` control endpoints with the standard library only.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

SANDBOX_SCRIPT = Path(__file__).resolve().parent / "meshy_sandbox.py"
TEST_KEY = "msy_dummy_api_key_for_test_mode_12345678"
PAID_KEY = "msy_sandbox_paid_key_0123456789abcdef"
START_TIMEOUT_S = 20


class Sandbox:
    """A running sandbox process and a handle on its control API."""

    def __init__(self, *args: str) -> None:
        cmd = [sys.executable, str(SANDBOX_SCRIPT), "--port", "0", "--api-key", PAID_KEY, *args]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline().strip() if ready else ""
        if not line.startswith("MESHY_BASE_URL="):
            self.close()
            raise RuntimeError(f"sandbox did not start: {line!r}")
        self.url = line.split("=", 1)[1]

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def reset(self, **config: Any) -> None:
        """Forget every task, fault and logged request; then apply ``config``."""
        self.control("POST", "reset")
        if config:
            self.configure(**config)

    def configure(self, **config: Any) -> None:
        self.control("POST", "config", config)

    def fault(self, path: str, action: str, *, method: str = "*", times: int = 1, skip: int = 0, **params: Any) -> None:
        rule = {"method": method, "path": path, "action": action, "times": times, "skip": skip, **params}
        self.control("POST", "faults", rule)

    def fail_next(self, kind: str = "*", message: str = "Image too complex", code: str = "image_too_complex") -> None:
        self.control("POST", "fail_next", {"kind": kind, "message": message, "code": code, "type": "invalid_input"})

    def requests(self) -> list[dict[str, Any]]:
        """Every request the sandbox served so far: method, path, status."""
        result = self.control("GET", "requests")
        return list(result)

    def connections(self) -> int:
        """How many connections the clients' requests came over so far."""
        return len({entry["connection"] for entry in self.requests()})

    def creates(self) -> list[dict[str, Any]]:
        """The task-creating POSTs the sandbox accepted (2xx)."""
        return [r for r in self.requests() if r["method"] == "POST" and 200 <= r["status"] < 300]

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released), for unreachable-server cases."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
