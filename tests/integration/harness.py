"""Integration-test harness for inkwell: a private RabbitMQ node, an in-process
SMTP server, service processes and small HTTP helpers.

Stdlib + pika + aiosmtpd only; run with /usr/bin/python3 (Debian's modules).
Everything binds 127.0.0.1 and every wait is bounded.
"""

import sys

sys.dont_write_bytecode = True  # never leave __pycache__ in the repo

import asyncio
import contextlib
import email
import email.policy
import html.parser
import http.client
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
from pathlib import Path

import pika
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

logging.getLogger("pika").setLevel(logging.CRITICAL)
logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # aiosmtpd chatter

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("INKWELL_BUILD_DIR") or REPO / "build")
WEB_BIN = BUILD_DIR / "src" / "web" / "inkwell-web"
MAILER_BIN = BUILD_DIR / "src" / "mailer" / "inkwell-mailer"
NODE_SCRIPT = REPO / "scripts" / "rabbitmq-node"
LOG_LEVEL = os.environ.get("INKWELL_IT_LOG_LEVEL", "debug")
KEEP_TMP = bool(os.environ.get("INKWELL_IT_KEEP_TMP"))


# --------------------------------------------------------------------------- misc

def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.1, message="condition"):
    """Poll predicate() until truthy; return its value or raise AssertionError."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - report the last one
            last_exc = exc
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {message}{extra}")
        time.sleep(interval)


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            data = f.read()[-64 * 1024:]
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


# --------------------------------------------------------------------------- HTTP

def _request(method, url, body=None, headers=None, timeout=15):
    """One HTTP request, never following redirects. Returns (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def http_get(url, headers=None, timeout=15):
    return _request("GET", url, headers=headers, timeout=timeout)


def http_post(url, body, content_type, headers=None, timeout=15):
    """POST raw bytes with the given Content-Type (None: no Content-Type header)."""
    h = dict(headers or {})
    if content_type is not None:
        h["Content-Type"] = content_type
    if isinstance(body, str):
        body = body.encode("utf-8")
    return _request("POST", url, body=body, headers=h, timeout=timeout)


def http_post_form(url, fields, headers=None, timeout=15):
    """fields: dict or list of pairs; bytes values are sent as raw (percent-encoded) bytes."""
    body = urllib.parse.urlencode(fields).encode("ascii")
    return http_post(url, body, "application/x-www-form-urlencoded", headers, timeout)


def http_post_json(url, obj, headers=None, timeout=15):
    body = json.dumps(obj).encode("utf-8")
    return http_post(url, body, "application/json", headers, timeout)


class _FormScraper(html.parser.HTMLParser):
    """Collects <input> names and hidden fields (e.g. a CSRF token)."""

    def __init__(self):
        super().__init__()
        self.inputs = set()
        self.hidden = {}
        self.forms = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms += 1
        if tag in ("input", "textarea", "select") and a.get("name"):
            self.inputs.add(a["name"])
            if tag == "input" and (a.get("type") or "").lower() == "hidden":
                self.hidden[a["name"]] = a.get("value") or ""


def scrape_form(body):
    p = _FormScraper()
    p.feed(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    return p


def cookies_from(headers):
    """'name=value; ...' for a Cookie header from Set-Cookie response headers."""
    pairs = []
    for h in headers.get_all("Set-Cookie") or []:
        pairs.append(h.split(";", 1)[0].strip())
    return "; ".join(pairs)


# --------------------------------------------------------------------------- RabbitMQ

# A RabbitMQ node started once for the whole suite (scripts/test: var/test-rabbitmq), shared by
# every test class that never stops, kills or restarts the broker; each such class works in a
# vhost of its own on it. Unset: each class starts a private node of its own.
SHARED_NODE_DIR = os.environ.get("INKWELL_TEST_RABBITMQ_DIR") or None


class RabbitNode:
    """A private RabbitMQ node driven by scripts/rabbitmq-node."""

    def __init__(self, port=None, dir=None):  # noqa: A002 - name from the brief
        self.port = port or free_port()
        self._own_dir = dir is None
        self.dir = Path(dir or tempfile.mkdtemp(prefix="inkwell-rmq-"))
        self.vhost = "/"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.start_seconds = None  # wall time of the last start

    @classmethod
    def attach(cls, dir):  # noqa: A002
        """The node already running from `dir` (started by scripts/rabbitmq-node, which
        records its port in DIR/node.env); raises AssertionError if it does not answer.
        cleanup() leaves the directory alone."""
        env_file = Path(dir) / "node.env"
        try:
            port = int(re.search(r"^NODE_PORT=(\d+)$", env_file.read_text(), re.M).group(1))
        except (OSError, AttributeError) as exc:
            raise AssertionError(f"no RabbitMQ node recorded in {env_file}: {exc!r}") from exc
        node = cls(port=port, dir=dir)
        if not node.status():
            raise AssertionError(f"the RabbitMQ node in {dir} (port {port}) is not running")
        return node

    def vhost_slice(self, name):
        """Vhost `name` on this (running) node, guest allowed everything in it: see NodeVhost.
        rabbitmqctl add_vhost accepts a name in use, so make it unique (IntegrationCase adds
        a random suffix to the class name)."""
        return NodeVhost(self, name)

    def _run(self, *args, timeout):
        cmd = [str(NODE_SCRIPT), args[0], "--dir", str(self.dir), *args[1:]]
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        out = r.stdout.decode("utf-8", "replace")
        return r.returncode, out

    def start(self, timeout=90):
        t0 = time.monotonic()
        rc, out = self._run("start", "--port", str(self.port), "--timeout", str(timeout),
                            timeout=timeout + 60)
        if rc != 0:
            raise AssertionError(f"rabbitmq-node start failed (rc={rc}):\n{out}")
        self.start_seconds = time.monotonic() - t0
        return self

    def stop(self, timeout=30):
        rc, out = self._run("stop", "--timeout", str(timeout), timeout=timeout + 30)
        if rc != 0:
            raise AssertionError(f"rabbitmq-node stop failed (rc={rc}):\n{out}")

    def kill(self):
        rc, out = self._run("kill", timeout=30)
        if rc != 0:
            raise AssertionError(f"rabbitmq-node kill failed (rc={rc}):\n{out}")

    def restart(self, timeout=90):
        self.stop()
        return self.start(timeout)

    def status(self):
        rc, _ = self._run("status", timeout=30)
        return rc == 0

    def ctl(self, *args, timeout=60):
        """rabbitmqctl against this node; returns its output (raises on failure)."""
        r = subprocess.run([str(NODE_SCRIPT), "ctl", "--dir", str(self.dir), "--", *args],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError(f"rabbitmqctl {' '.join(args)} failed:\n"
                                 f"{r.stdout.decode()}{r.stderr.decode()}")
        return r.stdout.decode("utf-8", "replace")

    def log_tail(self, lines=40):
        logs = sorted((self.dir / "log").glob("*.log"))
        return "\n".join(f"---- {p}\n{tail(p, lines)}" for p in logs)

    def cleanup(self):
        """Stop the node and remove its directory (if we created it)."""
        try:
            self.stop()
        finally:
            if self._own_dir and not KEEP_TMP:
                shutil.rmtree(self.dir, ignore_errors=True)

    # -- AMQP helpers (pika, blocking, bounded) --------------------------------

    @contextlib.contextmanager
    def channel(self):
        params = pika.URLParameters(self.url)
        params.socket_timeout = 5
        params.blocked_connection_timeout = 10
        params.stack_timeout = 10
        params.connection_attempts = 1
        conn = pika.BlockingConnection(params)
        try:
            yield conn.channel()
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def queue_count(self, name):
        """Ready-message count of a queue (passive declare); raises if it doesn't exist."""
        with self.channel() as ch:
            return ch.queue_declare(name, passive=True).method.message_count

    def exists(self, exchange=None, queue=None):
        try:
            with self.channel() as ch:
                if exchange:
                    ch.exchange_declare(exchange, passive=True)
                if queue:
                    ch.queue_declare(queue, passive=True)
            return True
        except pika.exceptions.ChannelClosedByBroker:
            return False

    def publish(self, exchange, routing_key, body, properties=None, mandatory=True):
        """Publish with publisher confirms; raises if unroutable or nacked."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        with self.channel() as ch:
            ch.confirm_delivery()
            ch.basic_publish(exchange, routing_key, body, properties, mandatory=mandatory)


class NodeVhost(RabbitNode):
    """One test class's slice of a node it does not own: a vhost of its own, so its exchanges,
    queues and messages are invisible to every other class on the node. Quacks like a
    RabbitNode (url, channel, queue_count, exists, publish, ctl, log_tail), but the broker's
    lifecycle belongs to its owner: start() passes when the node is running, and stop(),
    kill() and restart() raise (a class that does them sets IntegrationCase.owns_broker).
    cleanup() deletes the vhost and everything in it."""

    def __init__(self, node, name):
        super().__init__(port=node.port, dir=node.dir)
        self._own_dir = False
        self.owner = node
        self.vhost = name
        self.url = (f"amqp://guest:guest@127.0.0.1:{node.port}/"
                    + urllib.parse.quote(name, safe=""))
        node.ctl("add_vhost", name)
        node.ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")

    def start(self, timeout=90):
        if not self.owner.status():
            raise AssertionError(f"the shared RabbitMQ node in {self.dir} is down")
        return self

    def _not_ours(self, *_args, **_kwargs):
        raise AssertionError(f"vhost {self.vhost!r} shares its node: stopping, killing or "
                             "restarting it needs a node of the class's own (owns_broker = True)")

    stop = kill = restart = _not_ours

    def cleanup(self):
        self.owner.ctl("delete_vhost", self.vhost)


# --------------------------------------------------------------------------- SMTP

class ReceivedMail:
    def __init__(self, envelope):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.raw = envelope.original_content or envelope.content
        if isinstance(self.raw, str):
            self.raw = self.raw.encode("utf-8", "surrogateescape")
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)
        self.received_at = time.monotonic()

    def __repr__(self):
        return (f"<mail from={self.mail_from!r} to={self.rcpt_tos!r} "
                f"subject={self.message.get('Subject')!r}>")

    def part(self, content_type):
        """Decoded text of the first part with this content type, or None."""
        for p in self.message.walk():
            if p.get_content_type() == content_type and not p.is_multipart():
                return p.get_content()
        return None


class SmtpServer:
    """In-process aiosmtpd server on 127.0.0.1 recording every accepted mail.

    Modes (settable at runtime): normal; `fail_all(451)` temporary failure for
    every recipient; `reject_recipient(addr, 550)` permanent failure for one
    address; `stop()` / `start()` (connection refused while stopped);
    `slow(seconds)` holds every accepted RCPT that long (so a client has messages
    in flight); lowering it (or `normal()`) releases held sessions at once; and
    `wait_quiet()` finds a moment when no session sits between an accepted DATA
    and its client's next transaction."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self._cond = threading.Condition()
        self._mails = []
        self._rejected = []  # (code, rcpt or None)
        self._fail_all = None
        self._reject = {}  # lower-case address -> code
        self._controller = None
        self._sessions = set()
        self._delay = 0.0
        # id(session) -> (state, since): "delay" (held in RCPT since `since`, until
        # since + the current delay), "rcpt" (RCPT answered, DATA may follow),
        # "data" (mail accepted at `since`)
        self._phase = {}

    # -- modes
    def normal(self):
        with self._cond:
            self._fail_all = None
            self._reject.clear()
            self._delay = 0.0

    def slow(self, seconds):
        """Hold each accepted RCPT for `seconds` (0: off) before answering 250. A
        change applies to sessions already held (a shorter delay releases them)."""
        with self._cond:
            self._delay = max(0.0, float(seconds))

    def fail_all(self, code=451):
        with self._cond:
            self._fail_all = code

    def reject_recipient(self, address, code=550):
        with self._cond:
            self._reject[address.lower()] = code

    # -- aiosmtpd handler hooks (run on the server thread)
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._cond:
            code = self._fail_all or self._reject.get(address.lower())
            if code:
                self._rejected.append((code, address))
            delay = 0.0 if code else self._delay
            if delay:
                since = time.monotonic()
                self._phase[id(session)] = ("delay", since)
        if code:
            text = "4.3.0 try again later" if code < 500 else "5.1.1 mailbox unavailable"
            return f"{code} {text}"
        if delay:
            try:
                while True:
                    with self._cond:
                        left = since + self._delay - time.monotonic()
                        if left <= 0:
                            self._phase[id(session)] = ("rcpt", time.monotonic())
                            break
                    await asyncio.sleep(min(left, 0.02))
            except BaseException:  # the client went away while held: forget the session
                with self._cond:
                    self._phase.pop(id(session), None)
                raise
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._cond:
            code = self._fail_all
            if code:
                self._rejected.append((code, None))
        if code:
            return f"{code} 4.3.0 try again later"
        mail = ReceivedMail(envelope)
        with self._cond:
            self._mails.append(mail)
            if id(session) in self._phase:
                self._phase[id(session)] = ("data", mail.received_at)
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    # -- lifecycle
    def start(self):
        if self._controller is not None:
            return self
        outer = self

        class _Controller(Controller):
            def factory(self):
                smtpd = SMTP(self.handler, **self.SMTP_kwargs)
                outer._sessions.add(smtpd)
                return smtpd

        c = _Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10,
                        server_hostname="smtp.test.invalid")
        c.start()
        self._controller = c
        return self

    def stop(self):
        c = self._controller
        if c is None:
            return
        self._controller = None

        def close_sessions():
            for s in list(self._sessions):
                t = getattr(s, "transport", None)
                if t is not None:
                    t.close()
            self._sessions.clear()

        c.loop.call_soon_threadsafe(close_sessions)
        c.stop()

    @property
    def running(self):
        return self._controller is not None

    # -- inspection
    def messages(self):
        with self._cond:
            return list(self._mails)

    def messages_to(self, address):
        address = address.lower()
        return [m for m in self.messages() if address in (r.lower() for r in m.rcpt_tos)]

    def rejected(self):
        with self._cond:
            return list(self._rejected)

    @property
    def count(self):
        with self._cond:
            return len(self._mails)

    def clear(self):
        with self._cond:
            self._mails.clear()
            self._rejected.clear()

    def wait_quiet(self, timeout, margin=0.1, settle=0.5):
        """Under slow(): wait for a moment when at least one session is held in RCPT
        and every session is either held with >= `margin` s left, or has been idle
        for >= `settle` s. At such a moment no client is between our 250 for DATA
        and its next transaction, so a client killed now cannot have been told
        "accepted" without having had time to record it. Raises AssertionError on
        timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                now = time.monotonic()
                held = 0
                quiet = True
                for state, since in self._phase.values():
                    if state == "delay" and since + self._delay - now >= margin:
                        held += 1
                    elif state == "delay" or now - since < settle:
                        quiet = False
                        break
                if quiet and held:
                    return held
            if time.monotonic() >= deadline:
                raise AssertionError(f"no quiet SMTP moment within {timeout}s")
            time.sleep(0.003)

    def wait_for(self, count, timeout, to=None):
        """Wait until at least `count` mails (to `to`, if given) arrived; return them.
        Raises AssertionError on timeout."""
        def matching():
            if to is None:
                return list(self._mails)
            t = to.lower()
            return [m for m in self._mails if t in (r.lower() for r in m.rcpt_tos)]

        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = matching()
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} mail(s){' to ' + to if to else ''} within "
                        f"{timeout}s, got {len(got)}: {got!r}; all: {self._mails!r}")
                self._cond.wait(min(left, 0.5))


# --------------------------------------------------------------------------- services

def _base_env():
    """The parent environment minus any INKWELL_* settings (tests set their own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("INKWELL_")}


class Service:
    """A service binary under test: spawned with `env`, output to a log file,
    ready when GET http://<http_addr>/healthz answers 200."""

    def __init__(self, binary, env, http_addr, log_dir=None, name=None, ready_timeout=20):
        self.binary = Path(binary)
        self.env = dict(env)
        self.http_addr = http_addr
        self.base_url = f"http://{http_addr}"
        self.name = name or self.binary.name
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="inkwell-svc-"))
        self.ready_timeout = ready_timeout
        self.proc = None
        self.log_path = None
        self._starts = 0

    def start(self):
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} not built: build first (scripts/build) or set INKWELL_BUILD_DIR")
        self._starts += 1
        suffix = "" if self._starts == 1 else f".{self._starts}"
        self.log_path = self.log_dir / f"{self.name}{suffix}.log"
        env = _base_env()
        env.update(self.env)
        logf = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen([str(self.binary)], env=env, cwd=str(REPO),
                                         stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            logf.close()
        deadline = time.monotonic() + self.ready_timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                raise AssertionError(f"{self.name} exited with {rc} during start\n{self.log_tail()}")
            try:
                status, _, _ = http_get(self.base_url + "/healthz", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError(f"{self.name}: /healthz not 200 within "
                                     f"{self.ready_timeout}s\n{self.log_tail()}")
            time.sleep(0.1)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=20):
        """Wait for GET /readyz -> 200."""
        wait_until(lambda: http_get(self.base_url + "/readyz", timeout=2)[0] == 200,
                   timeout, interval=0.2, message=f"{self.name} /readyz 200")

    def stop(self, timeout=15):
        """SIGTERM; the service must exit 0 within `timeout` s."""
        p = self.proc
        if p is None:
            return
        self.proc = None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
            raise AssertionError(f"{self.name} did not exit within {timeout}s of SIGTERM "
                                 f"(killed)\n{self.log_tail()}")
        if rc != 0:
            raise AssertionError(f"{self.name} exited with {rc} after SIGTERM, expected 0\n"
                                 f"{self.log_tail()}")

    def kill(self):
        p = self.proc
        if p is None:
            return
        self.proc = None
        if p.poll() is None:
            p.kill()
        p.wait(10)

    def log_tail(self, lines=60):
        if self.log_path is None:
            return ""
        return f"---- {self.name} log ({self.log_path}):\n{tail(self.log_path, lines)}"


# --------------------------------------------------------------------------- databases

# The web service's database engine for this run: sqlite (a file per test), or postgresql /
# mysql on the private servers scripts/test starts (INKWELL_TEST_PG_URL, INKWELL_TEST_MYSQL_URL).
DB_ENGINE = os.environ.get("INKWELL_TEST_DB_ENGINE", "sqlite")
_SERVER_URL_ENV = {"postgresql": "INKWELL_TEST_PG_URL", "mysql": "INKWELL_TEST_MYSQL_URL"}
_NODE_SCRIPTS = {"postgresql": REPO / "scripts" / "postgres-node",
                 "mysql": REPO / "scripts" / "mariadb-node"}


def _sql_literal(value, engine):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("'", "''")
    if engine == "mysql":  # MariaDB reads backslash escapes in literals; PostgreSQL does not
        text = text.replace("\\", "\\\\")
    return "'" + text + "'"


class TestDatabase:
    """The web service's database in a test. SQLite: the file at `path`. PostgreSQL or MariaDB:
    a fresh database on the engine's test server, named after `path`, dropped at cleanup().
    `execute(sql, params)` runs one statement (`?` placeholders; values quoted here, test
    input only) and returns the rows as lists of strings (server engines) or values (SQLite)."""

    _by_path = {}

    def __init__(self, path, engine=None):
        self.path = Path(path)
        self.engine = engine or DB_ENGINE
        if self.engine == "sqlite":
            self.url = f"sqlite:{self.path}"
            return
        admin = os.environ.get(_SERVER_URL_ENV[self.engine])
        if not admin:
            raise RuntimeError(f"INKWELL_TEST_DB_ENGINE={self.engine} needs "
                               f"{_SERVER_URL_ENV[self.engine]} (scripts/test sets it; or start "
                               f"{_NODE_SCRIPTS[self.engine].name} and export its url)")
        parsed = urllib.parse.urlsplit(admin)
        self.admin = parsed
        self.name = "it_" + uuid.uuid4().hex[:12]
        self.url = f"{parsed.scheme}://{parsed.netloc}/{self.name}"
        self._admin_sql(f"CREATE DATABASE {self.name}")

    @classmethod
    def for_path(cls, path):
        """One database per path (instances given the same path share it)."""
        key = str(path)
        if key not in cls._by_path:
            cls._by_path[key] = cls(path)
        return cls._by_path[key]

    def _client(self, database):
        p = self.admin
        if self.engine == "postgresql":
            return (["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                     "-h", p.hostname, "-p", str(p.port), "-U", p.username, "-d", database],
                    {"PGPASSWORD": p.password or "", "PGCONNECT_TIMEOUT": "10"})
        return (["mariadb", "--protocol=TCP", "-h", p.hostname, "-P", str(p.port),
                 "-u", p.username, "-N", "-B", "--connect-timeout=10", database],
                {"MYSQL_PWD": p.password or ""})

    def _run(self, database, sql):
        argv, extra = self._client(database)
        env = dict(os.environ)
        env.update(extra)
        out = subprocess.run(argv, input=sql + ";\n", env=env, capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"{self.engine}: {sql[:200]!r} failed: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines() if line != ""]

    def _admin_sql(self, sql):
        return self._run(self.admin.path.lstrip("/"), sql)

    def execute(self, sql, params=()):
        if self.engine == "sqlite":
            import sqlite3
            conn = sqlite3.connect(str(self.path), timeout=10)
            try:
                conn.execute("PRAGMA busy_timeout = 10000")
                with conn:
                    return [list(row) for row in conn.execute(sql, tuple(params)).fetchall()]
            finally:
                conn.close()
        parts = sql.split("?")
        if len(parts) - 1 != len(params):
            raise ValueError(f"{len(parts) - 1} placeholders, {len(params)} values: {sql}")
        text = parts[0] + "".join(_sql_literal(v, self.engine) + rest for v, rest in zip(params, parts[1:]))
        return self._run(self.name, text)

    def scalar(self, sql, params=()):
        rows = self.execute(sql, params)
        return int(rows[0][0])

    def cleanup(self):
        if self.engine == "sqlite":
            return
        drop = f"DROP DATABASE IF EXISTS {self.name}"
        if self.engine == "postgresql":
            drop += " WITH (FORCE)"
        try:
            self._admin_sql(drop)
        except Exception:  # noqa: BLE001 - a server a test killed may be down; the data dir is transient
            pass
        TestDatabase._by_path.pop(str(self.path), None)


def db_server(engine=None):
    """Controls the engine's test server (kill -9 / start) through its node script, with the
    directory and port scripts/test gave it (INKWELL_PG_DIR/PORT, INKWELL_MYSQL_DIR/PORT)."""
    engine = engine or DB_ENGINE
    script = _NODE_SCRIPTS[engine]

    class _Server:
        def run(self, command, timeout=120):
            out = subprocess.run([str(script), command], capture_output=True, text=True,
                                 timeout=timeout, cwd=str(REPO))
            if out.returncode != 0:
                raise AssertionError(f"{script.name} {command} failed ({out.returncode}):\n"
                                     f"{out.stderr[-3000:]}")
            return out.stdout

        def kill(self):
            self.run("kill")

        def start(self):
            self.run("start")

    return _Server()


def web_service(tmp, amqp_url, name="web", db=None, extra_env=None):
    port = free_port()
    database = db if isinstance(db, TestDatabase) else TestDatabase.for_path(
        db or Path(tmp) / (name + ".db"))
    env = {
        "INKWELL_AMQP_URL": amqp_url,
        "INKWELL_LOG_LEVEL": LOG_LEVEL,
        "INKWELL_HTTP_ADDR": f"127.0.0.1:{port}",
        "INKWELL_DB_URL": database.url,
        # Every test client is 127.0.0.1 and bulk tests register hundreds of users:
        # no rate limit unless a test asks for one through extra_env.
        "INKWELL_RATE_LIMIT_PER_MINUTE": "0",
    }
    env.update(extra_env or {})
    return Service(WEB_BIN, env, f"127.0.0.1:{port}", log_dir=tmp, name=name)


def mailer_service(tmp, amqp_url, smtp_port, name="mailer", db=None, extra_env=None):
    port = free_port()
    env = {
        "INKWELL_AMQP_URL": amqp_url,
        "INKWELL_LOG_LEVEL": LOG_LEVEL,
        "INKWELL_MAILER_HTTP_ADDR": f"127.0.0.1:{port}",
        "INKWELL_MAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "INKWELL_MAILER_DB_URL": f"sqlite:{db or Path(tmp) / (name + '.db')}",
        "INKWELL_MAIL_FROM": "inkwell@example.org",
    }
    env.update(extra_env or {})
    return Service(MAILER_BIN, env, f"127.0.0.1:{port}", log_dir=tmp, name=name)


# --------------------------------------------------------------------------- CMS clients

CONFIRM_LINK_RE = re.compile(r"https?://[^\s<>\"']+/confirm\?token=[A-Za-z0-9_-]+")


class HtmlClient:
    """A browser-like HTML client for one inkwell-web instance: keeps cookies
    (Set-Cookie in, Cookie out; Max-Age=0 deletes) and never follows redirects.
    `form_fields(path)` GETs a form page and returns its hidden fields (the
    `csrf_token`); `submit(path, action, fields)` does that and POSTs the form."""

    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")
        self.cookies = {}
        self.last_set_cookies = []  # raw Set-Cookie headers of the last response

    def _cookie_header(self, extra=None):
        h = dict(extra or {})
        if self.cookies and "Cookie" not in h:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return h

    def _keep(self, headers):
        self.last_set_cookies = headers.get_all("Set-Cookie") or []
        for raw in self.last_set_cookies:
            pair, _, attrs = raw.partition(";")
            name, _, value = pair.strip().partition("=")
            attrs_l = attrs.lower().replace(" ", "")
            if "max-age=0" in attrs_l.split(";") or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def url(self, path):
        return path if path.startswith("http") else self.base_url + path

    def get(self, path, headers=None):
        st, h, body = http_get(self.url(path), headers=self._cookie_header(headers))
        self._keep(h)
        return st, h, body

    def post(self, path, fields, headers=None):
        st, h, body = http_post_form(self.url(path), fields, headers=self._cookie_header(headers))
        self._keep(h)
        return st, h, body

    def request(self, method, path, body=None, headers=None):
        st, h, data = _request(method, self.url(path), body=body,
                               headers=self._cookie_header(headers))
        self._keep(h)
        return st, h, data

    def form_fields(self, path):
        """GET `path` (must be 200) and return its hidden fields (incl. csrf_token)."""
        st, _, body = self.get(path)
        if st != 200:
            raise AssertionError(f"GET {path}: {st}, expected 200\n{body[:300]!r}")
        return dict(scrape_form(body).hidden)

    @property
    def csrf_token(self):
        return self.cookies.get("inkwell_csrf")

    def submit(self, form_path, action, fields):
        """GET form_path, take its hidden fields (csrf_token), POST `fields` to action."""
        data = self.form_fields(form_path)
        data.update(fields)
        return self.post(action, data)

    def login(self, email, password):
        """Log in through /login; asserts the 303 and returns the session cookie value."""
        st, h, body = self.submit("/login", "/login", {"email": email, "password": password})
        if st != 303 or "inkwell_session" not in self.cookies:
            raise AssertionError(f"HTML login as {email}: {st} {body[:300]!r}")
        return self.cookies["inkwell_session"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def api_json(method, url, obj=None, token=None, headers=None, timeout=15):
    """One JSON API call: (status, headers, parsed JSON or None)."""
    h = dict(headers or {})
    if token:
        h.update(bearer(token))
    body = None
    if obj is not None:
        body = json.dumps(obj).encode("utf-8")
        h.setdefault("Content-Type", "application/json")
    st, rh, data = _request(method, url, body=body, headers=h, timeout=timeout)
    try:
        doc = json.loads(data) if data.strip() else None
    except ValueError:
        doc = None
    return st, rh, doc


def confirm_link(mail):
    """The /confirm?token=... link from a mail's text/plain part (the part is
    decoded from its Content-Transfer-Encoding, e.g. quoted-printable)."""
    text = mail.part("text/plain")
    if text is None:
        raise AssertionError(f"no text/plain part in {mail!r}")
    m = CONFIRM_LINK_RE.search(text)
    if not m:
        raise AssertionError(f"no /confirm?token= link in the text part of {mail!r}:\n{text}")
    return m.group(0)


def api_register(web, email, password, name="Test User"):
    """POST /api/v1/users; asserts 201 and returns the user's id."""
    st, _, doc = api_json("POST", web.base_url + "/api/v1/users",
                          {"name": name, "email": email, "password": password})
    if st != 201:
        raise AssertionError(f"register {email}: {st} {doc!r}")
    return doc["id"]


def register_and_confirm(web, smtp, email=None, password="correct horse battery",
                         name="Test User", timeout=15):
    """Register through the API, wait for the welcome mail, follow its confirmation
    link. Returns a dict: id, email, password, name, confirm_url, mail."""
    email = email or f"user-{uuid.uuid4().hex[:12]}@example.org"
    user_id = api_register(web, email, password, name)
    mail = smtp.wait_for(1, timeout, to=email)[-1]
    link = confirm_link(mail)
    st, _, body = http_get(link)
    if st != 200:
        raise AssertionError(f"confirm {email} via {link}: {st}\n{body[:300]!r}")
    return {"id": user_id, "email": email, "password": password, "name": name,
            "confirm_url": link, "mail": mail}


def api_login(web, email, password):
    """POST /api/v1/sessions; asserts 201 and returns the bearer token."""
    st, _, doc = api_json("POST", web.base_url + "/api/v1/sessions",
                          {"email": email, "password": password})
    if st != 201 or not (doc or {}).get("token"):
        raise AssertionError(f"login {email}: {st} {doc!r}")
    return doc["token"]


class EventTap:
    """A pika consumer on its own thread: an exclusive server-named queue bound to
    `exchange` with `keys`, recording every delivery as (routing_key, body, props).
    Bodies that are JSON are parsed. start() waits until the binding exists."""

    def __init__(self, node, exchange="events", keys=("#",)):
        self.node = node
        self.exchange = exchange
        self.keys = list(keys)
        self._cond = threading.Condition()
        self._events = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error = None
        self._thread = None

    def start(self, timeout=15):
        wait_until(lambda: self.node.exists(exchange=self.exchange), timeout,
                   message=f"exchange {self.exchange!r}")
        self._thread = threading.Thread(target=self._run, name="event-tap", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error:
            raise AssertionError(f"event tap on {self.exchange!r} did not start: {self._error!r}")
        return self

    def _run(self):
        try:
            params = pika.URLParameters(self.node.url)
            params.socket_timeout = 5
            params.connection_attempts = 1
            conn = pika.BlockingConnection(params)
            ch = conn.channel()
            queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
            for key in self.keys:
                ch.queue_bind(queue, self.exchange, key)
            self._ready.set()
            for method, props, body in ch.consume(queue, auto_ack=True, inactivity_timeout=0.1):
                if self._stop.is_set():
                    break
                if method is None:
                    continue
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = body
                with self._cond:
                    self._events.append((method.routing_key, doc, props))
                    self._cond.notify_all()
            with contextlib.suppress(Exception):
                conn.close()
        except Exception as exc:  # noqa: BLE001 - reported by start() / events()
            self._error = exc
            self._ready.set()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def events(self, routing_key=None, where=None):
        with self._cond:
            got = list(self._events)
        return [(k, d, p) for k, d, p in got
                if (routing_key is None or k == routing_key)
                and (where is None or (isinstance(d, dict) and where(d)))]

    def wait_for(self, routing_key, count=1, timeout=10, where=None, settle=0.0):
        """Wait until at least `count` matching events arrived, then `settle` s more;
        return all matching events (the caller asserts the exact number)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.events(routing_key, where)
            if len(got) >= count:
                break
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected {count} {routing_key!r} event(s) on {self.exchange!r} within "
                    f"{timeout}s, got {len(got)}; tap error: {self._error!r}; all: "
                    f"{[(k, d) for k, d, _ in self.events()][-20:]!r}")
            with self._cond:
                self._cond.wait(0.1)
        if settle:
            time.sleep(settle)
        return self.events(routing_key, where)


# --------------------------------------------------------------------------- base class

class IntegrationCase(unittest.TestCase):
    """Per class: a temp dir, RabbitMQ (below) and its own SMTP server; services are
    registered with cls.add_service() and stopped (exit 0 asserted) at class end.
    Set INKWELL_IT_KEEP_TMP=1 to keep the temp dir (logs, DBs, node data).

    RabbitMQ: a class with owns_broker = True (it stops, kills or restarts the broker) starts
    a private node of its own. Any other class gets a fresh vhost of its own (cls.node is a
    NodeVhost, deleted at class end) on the suite's shared node (INKWELL_TEST_RABBITMQ_DIR,
    started by scripts/test) or, when none is given (a test run alone), on a private node."""

    needs = ("web", "mailer")  # binaries the class needs; a missing one fails the class
    owns_broker = False  # True: the class stops/kills/restarts RabbitMQ (a private node)

    node = None
    smtp = None
    broker = None  # the RabbitNode this class started (None when it uses the shared node)

    @classmethod
    def setUpClass(cls):
        missing = [str(b) for n, b in (("web", WEB_BIN), ("mailer", MAILER_BIN))
                   if n in cls.needs and not b.exists()]
        if missing:
            raise RuntimeError("not built: " + ", ".join(missing)
                                    + " (set INKWELL_BUILD_DIR)")
        cls.tmp = Path(tempfile.mkdtemp(prefix=f"inkwell-it-{cls.__name__}-"))
        cls.services = []
        cls.node = cls.broker = None
        try:
            if cls.owns_broker or not SHARED_NODE_DIR:
                cls.broker = RabbitNode(dir=cls.tmp / "rabbitmq")
                cls.broker.start()
            if cls.owns_broker:
                cls.node = cls.broker
            else:
                shared = cls.broker or RabbitNode.attach(SHARED_NODE_DIR)
                cls.node = shared.vhost_slice(f"{cls.__name__}-{uuid.uuid4().hex[:8]}")
            cls.smtp = SmtpServer().start()
        except BaseException:
            cls._teardown_infra()
            raise

    @classmethod
    def add_service(cls, svc):
        cls.services.append(svc)
        try:
            svc.start()
        except BaseException:
            cls._teardown_infra()
            raise
        return svc

    @classmethod
    def _teardown_infra(cls):
        errors = []
        for svc in reversed(getattr(cls, "services", [])):
            try:
                svc.stop()
            except AssertionError as exc:
                errors.append(str(exc))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{svc.name}: {exc!r}")
        if cls.smtp is not None:
            cls.smtp.stop()
        for database in list(TestDatabase._by_path.values()):
            if str(database.path).startswith(str(cls.tmp)):
                database.cleanup()
        if cls.node is not None and cls.node is not cls.broker:
            try:
                if cls.broker is None:  # on the shared node: drop the class's vhost
                    cls.node.cleanup()
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
        if cls.broker is not None:
            try:
                cls.broker.stop()
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
        if not KEEP_TMP and not errors:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        elif errors:
            errors.append(f"(kept {cls.tmp})")
        return errors

    @classmethod
    def tearDownClass(cls):
        errors = cls._teardown_infra()
        if errors:
            raise AssertionError("\n".join(errors))

    def dump_logs(self):
        return "\n".join(s.log_tail() for s in self.services) + "\n" + self.node.log_tail(20)
