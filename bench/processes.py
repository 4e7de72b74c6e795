"""Processes the benchmark suite starts: a private RabbitMQ node, the inkwell services, the
baselines and smtp-sink. Each is remembered by PID and stopped by PID (never by name: other
people's tests run the same binaries). Loopback only; every wait is bounded."""

import sys

sys.dont_write_bytecode = True

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(preferred=None):
    """`preferred` if nothing listens there, else a port the kernel picks."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None, b""


def peak_rss_kib(pid):
    """VmHWM of a live process in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Started:
    """Every process the suite started, so one trap stops them all (by PID, TERM then KILL)."""

    def __init__(self):
        self.processes = []

    def spawn(self, argv, env=None, log=None, cwd=None):
        out = open(log, "ab") if log else subprocess.DEVNULL
        try:
            process = subprocess.Popen([str(a) for a in argv], env=env, cwd=cwd or str(ROOT),
                                       stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if log:
                out.close()
        self.processes.append(process)
        return process

    def stop(self, process, timeout=15):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process in self.processes:
            self.processes.remove(process)
        return process.returncode

    def stop_all(self):
        for process in reversed(list(self.processes)):
            self.stop(process, timeout=5)


class Broker:
    """A private RabbitMQ node through scripts/rabbitmq-node, on its own port."""

    def __init__(self, directory, port):
        self.directory = Path(directory)
        self.port = port
        self.url = f"amqp://guest:guest@127.0.0.1:{port}/"
        self.started = False

    def _node(self, *args, timeout):
        # --dir before the arguments: everything after `ctl --` goes to rabbitmqctl.
        command, *rest = args
        return subprocess.run([str(ROOT / "scripts" / "rabbitmq-node"), command,
                               "--dir", str(self.directory), *rest], capture_output=True,
                              text=True, timeout=timeout)

    def start(self):
        self.started = True
        result = self._node("start", "--port", str(self.port), "--timeout", "90", timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmq-node start failed:\n{result.stdout}\n{result.stderr}")

    def stop(self):
        if self.started:
            self.started = False
            self._node("stop", "--timeout", "30", timeout=60)

    def queues(self):
        """{queue name: messages ready + unacked} on the node's default vhost."""
        result = self._node("ctl", "--", "list_queues", "-q", "name", "messages", timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl list_queues failed: {result.stderr.strip()}")
        counts = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                counts[parts[0]] = int(parts[1])
        return counts


class Service:
    """inkwell-web or inkwell-mailer, ready when GET /healthz answers 200."""

    def __init__(self, started, binary, env, http_addr, log):
        self.started, self.binary, self.env = started, binary, env
        self.http_addr, self.log = http_addr, log
        self.process = None

    @property
    def url(self):
        return f"http://{self.http_addr}"

    def start(self, timeout=30):
        env = {k: v for k, v in os.environ.items() if not k.startswith("INKWELL_")}
        env.update(self.env)
        self.process = self.started.spawn([self.binary], env=env, log=self.log)
        wait_until(lambda: self._healthy(), timeout, what=f"{Path(self.binary).name} /healthz")
        return self

    def _healthy(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.binary} exited with {self.process.returncode}; "
                               f"log: {self.log}")
        return http_get(self.url + "/healthz", timeout=2)[0] == 200

    @property
    def pid(self):
        return self.process.pid

    def metric(self, name):
        """Sum of every sample of a Prometheus metric on /metrics (labels ignored)."""
        status, body = http_get(self.url + "/metrics", timeout=5)
        if status != 200:
            return None
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(name) and (line[len(name)] in " {"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self):
        """Peak RSS in KiB, read just before SIGTERM."""
        rss = peak_rss_kib(self.process.pid)
        code = self.started.stop(self.process)
        if code not in (0, -signal.SIGTERM):
            raise RuntimeError(f"{self.binary} exited with {code}; log: {self.log}")
        return rss


def run_json(argv, timeout):
    """Runs a baseline program and returns the JSON line it prints."""
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])
