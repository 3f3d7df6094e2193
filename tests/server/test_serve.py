"""A real ``xrm serve`` process on a free port, queried over HTTP with an API key."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def xrm_serve(database_url: str, *options: str, cwd: str) -> Iterator[str]:
    """Start ``xrm serve`` on a free port, wait until it answers, stop it afterwards; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "xrm", "serve", "--port", str(port), "--database", database_url, *options]
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"xrm serve exited with {process.returncode}:\n{process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("xrm serve did not answer within 90 seconds")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_xrm_serve_answers_graphql_with_a_token(caller, database_url, tmp_path) -> None:
    alice = caller("alice")
    with xrm_serve(database_url, "--no-worker", cwd=str(tmp_path)) as base:
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        assert httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}).status_code == 401
        response = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, headers=alice.headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/graphql-response+json")
        assert response.json() == {"data": {"__typename": "Query"}}


def test_several_worker_processes_share_the_database(caller, database_url, tmp_path) -> None:
    alice = caller("alice")
    with xrm_serve(database_url, "--workers", "2", cwd=str(tmp_path)) as base:
        for _ in range(6):
            response = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, headers=alice.headers)
            assert response.json() == {"data": {"__typename": "Query"}}
        done = subprocess.run(
            [sys.executable, "-m", "xrm", "solution", "install", "case", "--database", database_url],
            capture_output=True, text=True, timeout=180, env=os.environ.copy(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 30
        seen = 0
        while seen < 6:  # every process notices the new version; requests land on either
            sdl = httpx.get(f"{base}/graphql/schema.graphql", headers=alice.headers).text
            seen = seen + 1 if "incident" in sdl.lower() else 0
            assert time.monotonic() < deadline, "a server process kept the old schema"
            time.sleep(0.1)
