"""N Streamlit replicas behind HAProxy: ``python -m deploy --replicas 2 --port 8080``.

Every replica runs ``streamlit run dashboard.py`` on its own loopback port (``--port`` + 1, + 2, …)
with one shared ``server.cookieSecret`` (uploads carry an XSRF token signed with it: without the
same secret everywhere they fail). HAProxy (Debian's package) listens on ``--port``, balances new
students round-robin, keeps each one on its replica with an inserted cookie, checks every replica
at ``/_stcore/health`` and moves the students of a dead replica to a live one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from string import Template

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
HAPROXY = os.environ.get("HAPROXY", shutil.which("haproxy") or "/usr/sbin/haproxy")


def haproxy_config(port: int, replica_ports: list[int], host: str = "127.0.0.1") -> str:
    servers = "\n".join(f"    server r{i} 127.0.0.1:{p} check cookie r{i}"
                        for i, p in enumerate(replica_ports, 1))
    probes = "\n".join(f"    server r{i} 127.0.0.1:{p} check" for i, p in enumerate(replica_ports, 1))
    return Template(TEMPLATE.read_text()).substitute(bind=f"{host}:{port}", servers=servers, probe_servers=probes)


def free_port_block(n: int) -> int:
    """A port p with p … p + n - 1 all free on the loopback address (HAProxy and its replicas)."""
    import socket

    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n >= 65535:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no block of free ports")


def wait_http(url: str, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited early (code {proc.returncode})") from None
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s")


class Replica:
    """``streamlit run dashboard.py`` on one loopback port, output to a temporary log file."""

    def __init__(self, port: int, env: dict, script: Path = PROJECT / "dashboard.py"):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=f".replica{port}.log", delete=False)
        cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self.proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 180) -> None:
        wait_http(f"{self.url}/_stcore/health", self.proc, timeout, f"replica on port {self.port}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Deployment:
    """N replicas on ports ``port`` + 1 … + N and HAProxy on ``port``; a context manager."""

    def __init__(self, replicas: int, port: int, env: dict | None = None, cookie_secret: str | None = None,
                 host: str = "127.0.0.1"):
        if not 1 <= replicas <= 32:
            raise ValueError("replicas: 1 to 32")
        self.port, self.host, self.n = port, host, replicas
        self.url = f"http://127.0.0.1:{port}"
        self.cookie_secret = cookie_secret or os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)
        self.env = {**(env if env is not None else os.environ), "STREAMLIT_SERVER_COOKIE_SECRET": self.cookie_secret}
        self.replicas: list[Replica] = []
        self.haproxy: subprocess.Popen | None = None
        self.config = Path(tempfile.mkdtemp(prefix="deploy-")) / "haproxy.cfg"

    def start(self, timeout: float = 180) -> Deployment:
        ports = [self.port + i for i in range(1, self.n + 1)]
        self.replicas = [Replica(p, self.env) for p in ports]
        for r in self.replicas:
            r.wait_healthy(timeout)
        self.config.write_text(haproxy_config(self.port, ports, self.host))
        subprocess.run([HAPROXY, "-c", "-q", "-f", str(self.config)], check=True)
        # -db: stay in the foreground (no daemon), so this process owns it and Ctrl-C stops it.
        self.haproxy = subprocess.Popen([HAPROXY, "-db", "-f", str(self.config)])
        wait_http(f"{self.url}/_stcore/health", self.haproxy, 30, "haproxy")
        return self

    def stop(self) -> None:
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
        for r in self.replicas:
            r.stop()
        shutil.rmtree(self.config.parent, ignore_errors=True)

    def __enter__(self) -> Deployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
