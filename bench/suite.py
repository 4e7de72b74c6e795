#!/usr/bin/python3
"""The inkwell benchmark suite; run it through bench/run (which installs and builds first).

Each benchmark runs --runs times (at least 3) beside its baseline, in one invocation, on
loopback, against a private RabbitMQ node; every load is bounded in count and time."""

import sys

sys.dont_write_bytecode = True

import argparse
import datetime
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
import http.client
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import processes  # noqa: E402
import report  # noqa: E402
from processes import ROOT, free_port, wait_until  # noqa: E402

MIB = 1024


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores ({model}), load average {load:.1f} at the start"


class Suite:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.runs = args.runs
        self.count = 5_000 if self.quick else 50_000
        self.maildir_count = self.count // 5
        self.wrk_seconds = 2 if self.quick else 5
        self.offered_seconds = 3 if self.quick else 30
        # A drain that is far off its baseline would take minutes: stop measuring after this
        # long and report the rate over what was done (the table says so).
        self.cap_seconds = 4 if self.quick else 12
        self.capped = {}  # name -> remaining counts of capped runs
        self.tmp = Path(tempfile.mkdtemp(prefix="inkwell-bench-"))
        self.started = processes.Started()
        self.broker = processes.Broker(self.tmp / "rabbitmq", free_port(args.broker_port))
        self.build = Path(args.build_dir)
        self.bench_bin = Path(args.bench_bin_dir)
        self.web_bin = self.build / "src" / "web" / "inkwell-web"
        self.mailer_bin = self.build / "src" / "mailer" / "inkwell-mailer"
        self.logd_bin = self.build / "src" / "logd" / "inkwell-logd"
        self.results = {}  # name -> list of per-run values
        self.rss = {}  # name -> list of KiB
        self.latency = {"response": [], "mail": []}
        self.smtp_sink_port = None

    # ------------------------------------------------------------------ helpers
    def add(self, name, value):
        self.results.setdefault(name, []).append(value)

    def add_rss(self, name, kib):
        if kib:
            self.rss.setdefault(name, []).append(kib)

    def web(self, name, db, extra=None):
        port = free_port()
        env = {"INKWELL_AMQP_URL": self.broker.url, "INKWELL_HTTP_ADDR": f"127.0.0.1:{port}",
               "INKWELL_DB_URL": db if str(db).startswith(("postgresql:", "mysql:")) else f"sqlite:{db}",
               # the load generators register thousands of users from 127.0.0.1
               "INKWELL_RATE_LIMIT_PER_MINUTE": "0"}
        env.update(extra or {})
        return processes.Service(self.started, self.web_bin, env, f"127.0.0.1:{port}",
                                 self.tmp / f"{name}.log")

    def mailer(self, name, mail_url, workers=8):
        port = free_port()
        env = {"INKWELL_AMQP_URL": self.broker.url, "INKWELL_MAILER_HTTP_ADDR": f"127.0.0.1:{port}",
               "INKWELL_MAILER_DB_URL": f"sqlite:{self.tmp / (name + '.db')}",
               "INKWELL_MAIL_URL": mail_url, "INKWELL_MAIL_FROM": "bench@example.org",
               "INKWELL_MAIL_WORKERS": str(workers)}
        return processes.Service(self.started, self.mailer_bin, env, f"127.0.0.1:{port}",
                                 self.tmp / f"{name}.log")

    def logd(self):
        port = free_port()
        env = {"INKWELL_AMQP_URL": self.broker.url, "INKWELL_LOGD_HTTP_ADDR": f"127.0.0.1:{port}",
               "INKWELL_LOG_DIR": str(self.tmp / "logs")}
        return processes.Service(self.started, self.logd_bin, env, f"127.0.0.1:{port}",
                                 self.tmp / "logd.log")

    def baseline(self, program, *args, timeout=120):
        return processes.run_json([self.bench_bin / program, "--port", self.broker.port, *args],
                                  timeout)

    def wrk(self, url, connections, seconds, script=None, tag=""):
        argv = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
                "--timeout", "5s", "--latency"]
        if script:
            argv += ["-s", str(Path(__file__).resolve().parent / script)]
        argv.append(url)
        if tag:
            argv += ["--", tag]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not rate:
            raise RuntimeError(f"wrk printed no rate:\n{out}")
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        errors = re.search(r"Socket errors: (.*)", out)
        return float(rate.group(1)), int(bad.group(1)) if bad else 0, errors.group(1) if errors else ""

    # ------------------------------------------------------------------ set-up
    def start(self):
        log(f"private RabbitMQ node on 127.0.0.1:{self.broker.port} (data in {self.tmp})")
        self.broker.start()
        # Declare the topology once, the way the services do, before the baselines publish.
        first = self.web("topology", self.tmp / "topology.db").start()
        wait_until(lambda: processes.http_get(first.url + "/readyz")[0] == 200, 30,
                   what="web /readyz")
        first.stop()
        # Every service ships its log records and trace spans (about five per registration) to
        # the broker, persistent, as deployed; inkwell-logd takes them off the `logd` queue.
        # Without it they piled up there (110,000 after the registration phase's wrk runs) and
        # the broker's work for that backlog showed in the latency figures.
        self.logd().start()
        self.smtp_sink_port = free_port()
        self.started.spawn(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{self.smtp_sink_port}",
                            "256"], log=self.tmp / "smtp-sink.log")
        wait_until(lambda: self._port_open(self.smtp_sink_port), 10, what="smtp-sink")

    @staticmethod
    def _port_open(port):
        import socket
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    # ------------------------------------------------------------------ 1, 2: relay and mailer
    def relay_and_mailer(self, run):
        tag = f"r{run}-{uuid.uuid4().hex[:6]}"
        publisher = self.baseline("bench-publisher", "--count", self.count, "--window", "256",
                                  "--id-prefix", tag)
        self.add("publisher", publisher["rate"])
        consumer = self.baseline("bench-consumer", "--count", self.count, "--prefetch", "500")
        self.add("consumer", consumer["rate"])
        self.add("relay", self._relay(run))
        self.baseline("bench-publisher", "--count", self.count, "--id-prefix", tag + "s")
        self.add("mailer_smtp", self._mailer(f"mailer-smtp{run}",
                                             f"smtp://127.0.0.1:{self.smtp_sink_port}", self.count))
        self.baseline("bench-publisher", "--count", self.maildir_count, "--id-prefix", tag + "m")
        self.add("mailer_maildir", self._mailer(f"mailer-maildir{run}",
                                                f"maildir:{self.tmp / f'maildir{run}'}",
                                                self.maildir_count))
        log(f"run {run + 1}: publisher {publisher['rate']:,.0f}/s, relay "
            f"{self.results['relay'][-1]:,.0f}/s; consumer {consumer['rate']:,.0f}/s, mailer smtp "
            f"{self.results['mailer_smtp'][-1]:,.0f}/s, maildir "
            f"{self.results['mailer_maildir'][-1]:,.0f}/s")

    def _relay(self, run):
        db = self.tmp / f"relay{run}.db"
        self.web(f"relay-schema{run}", db).start().stop()  # migration 1 creates the tables
        now_ms = int(time.time() * 1000)
        rows = []
        for i in range(self.count):
            address = f"relay-{run}-{i}@example.org"
            body = json.dumps({"data": {"email": address, "name": f"Relay {i}"},
                               "template": "welcome", "to": address}, separators=(",", ":"))
            rows.append((str(uuid.uuid4()), "email", "send", "email.send", body, now_ms))
        with sqlite3.connect(db) as connection:
            connection.executemany(
                "INSERT INTO outbox(message_id, exchange, routing_key, type, body, created_at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)", rows)
        web = self.web(f"relay{run}", db)
        web.start()
        # Progress from the relay's own counter (one small HTTP answer per look); the end when
        # no row is left unmarked in the database, a look the partial index answers at its first
        # entry. Counting the pending rows instead (a COUNT over up to 50,000 index entries,
        # about 2 ms each time) every 10-20 ms had cost a tenth of a core on the two that the
        # relay and the broker share.
        def confirmed():
            return web.metric("inkwell_outbox_confirmed_total") or 0

        first = wait_until(lambda: (lambda c: (time.monotonic(), c) if c > 0 else None)(confirmed()),
                           60, interval=0.01, what="the relay's first confirm")
        reader = sqlite3.connect(db, timeout=10)

        def pending_left():
            return reader.execute(
                "SELECT EXISTS(SELECT 1 FROM outbox WHERE sent_at_ms IS NULL)").fetchone()[0] == 1

        last_time, _ = self._until_done_or_cap(lambda: not pending_left(), lambda: 0)
        left = reader.execute("SELECT COUNT(*) FROM outbox WHERE sent_at_ms IS NULL").fetchone()[0]
        reader.close()
        self.add_rss("web (relay)", web.stop())
        self._note_cap("relay", left)
        self.purge_email_queue()
        # Rows confirmed and marked sent between the first confirm and the end.
        return (self.count - first[1] - left) / (last_time - first[0])

    def _until_done_or_cap(self, is_done, remaining):
        """Polls until is_done() or the time cap; returns (time, remaining()) at the end."""
        deadline = time.monotonic() + self.cap_seconds
        while not is_done() and time.monotonic() < deadline:
            time.sleep(0.02)
        return time.monotonic(), remaining()

    def _note_cap(self, name, remaining):
        if remaining:
            self.capped.setdefault(name, []).append(remaining)

    def wait_drained(self, web, timeout=120):
        """Until the web's outbox, `email` and its retry queues are empty (a failed send's copy
        waits in email.retry.* and would come back later; email.dead does not)."""
        def drained():
            if web.metric("inkwell_outbox_pending") != 0:
                return False
            try:
                queues = self.broker.queues()  # a rabbitmqctl run: an Erlang VM, so not too often
            except (RuntimeError, subprocess.TimeoutExpired):
                return False  # a transient ctl failure: look again
            return sum(count for name, count in queues.items()
                       if name.startswith("email") and name != "email.dead") == 0
        wait_until(drained, timeout, interval=1.0, what="the outbox and the email queues to drain")

    def purge_email_queue(self):
        """Empties the `email` queue (what a capped run left behind) through pika."""
        import pika
        parameters = pika.URLParameters(self.broker.url)
        connection = pika.BlockingConnection(parameters)
        try:
            connection.channel().queue_purge("email")
        finally:
            connection.close()

    def _mailer(self, name, mail_url, count):
        mailer = self.mailer(name, mail_url)
        mailer.start()

        def progress():
            sent = mailer.metric("inkwell_mailer_sent_total") or 0
            return (time.monotonic(), sent) if sent > 0 else None

        first = wait_until(progress, 60, interval=0.02, what=f"{name}: the first mail")

        def unsent():
            return count - (mailer.metric("inkwell_mailer_acked_total") or 0)

        last = self._until_done_or_cap(lambda: unsent() <= 0, unsent)
        self.add_rss("mailer", mailer.stop())
        self._note_cap(name.rstrip("0123456789"), last[1])
        self.purge_email_queue()
        return (count - first[1] - last[1]) / (last[0] - first[0])

    # ------------------------------------------------------------------ 3: registration, MIN hash
    def registration_min(self):
        weak = {"INKWELL_PASSWORD_HASH": "min", "INKWELL_BENCHMARK": "1"}
        mailer = self.mailer("mailer-registration", f"smtp://127.0.0.1:{self.smtp_sink_port}")
        mailer.start()
        web = self.web("web-registration", self.tmp / "registration.db", weak).start()
        for run in range(self.runs):
            for connections in (10, 50):
                rate, bad, errors = self.wrk(web.url + "/api/v1/users", connections,
                                             self.wrk_seconds, "register.lua", f"c{connections}r{run}")
                if bad:
                    raise RuntimeError(f"registration answered {bad} non-2xx responses ({errors})")
                self.add(f"registration_c{connections}", rate)
            log(f"run {run + 1}: registrations/s (MIN hash) at 10 connections "
                f"{self.results['registration_c10'][-1]:,.0f}, at 50 "
                f"{self.results['registration_c50'][-1]:,.0f}")
        # The wrk runs' last mails go to smtp-sink before the latency runs start. Left queued,
        # they went to the load generator's SMTP server, which listens only during a run, and
        # came back from email.retry.5s in the middle of a measured run: a burst of mails for
        # the generator's own event loop (a 100 ms stall at 5 s into the run, seen).
        self.wait_drained(web)
        self.add_rss("mailer", mailer.stop())
        # Fixed offered rate: the mailer now delivers to the SMTP server inside the load
        # generator (bench-registration-load), which times each mail.
        sink_port = free_port()
        mailer = self.mailer("mailer-latency", f"smtp://127.0.0.1:{sink_port}")
        mailer.start()
        for run in range(self.runs):
            result = self.offered_load(web, sink_port, 200, self.offered_seconds,
                                       f"{run}-{uuid.uuid4().hex[:6]}")
            if result["errors"] or result["mails_missing"]:
                raise RuntimeError(f"offered load: {result['errors']} failed registrations, "
                                   f"{result['mails_missing']} mails missing")
            mail = result["mail_latency_s"]
            self.latency["mail"] += mail
            self.latency["response"] += result["response_s"]
            for name, values in (("mail", mail), ("response", result["response_s"]),
                                 ("lag", result["send_lag_s"])):
                self.add(f"{name}_p50", report.percentile(values, 0.50) * 1000)
                self.add(f"{name}_p99", report.percentile(values, 0.99) * 1000)
                self.add(f"{name}_max", values[-1] * 1000)
            log(f"run {run + 1}: 200/s for {self.offered_seconds} s: registration → mail p50 "
                f"{self.results['mail_p50'][-1]:.1f} ms, p99 {self.results['mail_p99'][-1]:.1f} ms, "
                f"max {self.results['mail_max'][-1]:.1f} ms")
        self.add_rss("mailer", mailer.stop())
        self.add_rss("web", web.stop())

    def offered_load(self, web, smtp_port, rate, seconds, tag):
        """bench-registration-load: `rate` registrations/s for `seconds` against `web`, its SMTP
        server on smtp_port. Returns its report (see bench/registration_load.cc)."""
        return processes.run_json([self.bench_bin / "bench-registration-load",
                                   "--http-port", web.http_addr.rsplit(":", 1)[1],
                                   "--smtp-port", smtp_port, "--rate", rate,
                                   "--seconds", seconds, "--tag", tag], seconds + 60)

    # ------------------------------------------------------------------ 4: production argon2id
    def registration_production(self):
        mailer = self.mailer("mailer-production", f"smtp://127.0.0.1:{self.smtp_sink_port}")
        mailer.start()
        web = self.web("web-production", self.tmp / "production.db").start()
        host, port = web.http_addr.rsplit(":", 1)
        for run in range(self.runs):
            # The machine's speed drifts (a shared VM: one hash took 120-160 ms within minutes),
            # so the single-hash baseline brackets the run: measured right before and right
            # after it, and the mean taken.
            before = self.baseline_argon2id()
            all_cores_before = self.baseline_argon2id(os.cpu_count())
            # /healthz every 10 ms meanwhile, from a small C++ program (a Python thread doing
            # it took ~6% of a core from the hashing threads being measured).
            probe = subprocess.Popen([str(self.bench_bin / "bench-healthz-probe"), "--port", port,
                                      "--seconds", str(self.wrk_seconds + 1)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                rate, bad, errors = self.wrk(web.url + "/api/v1/users", 10, self.wrk_seconds + 1,
                                             "register.lua", f"prod{run}")
                probed, probe_errors = probe.communicate(timeout=30)
            finally:
                if probe.poll() is None:
                    probe.kill()
                    probe.wait()
            if probe.returncode != 0:
                raise RuntimeError(f"bench-healthz-probe failed: {probe_errors.strip()}")
            probed = json.loads(probed.strip().splitlines()[-1])
            if probed["errors"]:
                raise RuntimeError(f"/healthz failed {probed['errors']} of {probed['count']} times")
            single = (before + self.baseline_argon2id()) / 2
            ideal = os.cpu_count() / (single / 1000)
            # What bare libsodium reaches with a thread per core and nothing else running: the
            # hashes share the memory bus and the caches, so this is below `ideal` already.
            all_cores = (all_cores_before + self.baseline_argon2id(os.cpu_count())) / 2
            if bad:
                raise RuntimeError(f"registration answered {bad} non-2xx responses ({errors})")
            self.add("argon2id_ms", single)
            self.add("production_ideal", ideal)
            self.add("production_rate", rate)
            self.add("production_all_cores", all_cores)
            latencies = probed["latencies_s"]
            self.add("healthz_p99", report.percentile(latencies, 0.99) * 1000)
            self.add("healthz_max", latencies[-1] * 1000 if latencies else float("nan"))
            log(f"run {run + 1}: production argon2id: {rate:.1f} registrations/s, ideal "
                f"{ideal:.1f} (one hash {single:.1f} ms); /healthz p99 "
                f"{self.results['healthz_p99'][-1]:.2f} ms")
        self.add_rss("web (production argon2id)", web.stop())
        self.add_rss("mailer", mailer.stop())

    def baseline_argon2id(self, threads=None):
        """One thread: the median time of one hash (ms). With `threads`: hashes/s of them all."""
        result = processes.run_json([self.bench_bin / "bench-argon2id", "--count",
                                     "5" if self.quick else "9", "--threads", threads or 1], 60)
        return result["hashes_per_s"] if threads else result["median_ms"]

    # ------------------------------------------------------------------ 5: pages
    @staticmethod
    def _api(url, method, body=None, token=None):
        parsed = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        connection.request(method, parsed.path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, json.loads(data) if data else None

    def _publish_page(self, web, db):
        """A confirmed author (the link's token read from the outbox row of the welcome mail)
        and one page of Markdown, like a short article."""
        status, _ = self._api(web.url + "/api/v1/users", "POST",
                              {"name": "Bench Author", "email": "author@bench.example",
                               "password": "bench-password"})
        if status != 201:
            raise RuntimeError(f"POST /api/v1/users answered {status}")
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT body FROM outbox WHERE exchange = 'email'").fetchall()
        token = next(json.loads(body)["data"]["confirm_url"].split("token=")[1] for (body,) in rows)
        status, _ = processes.http_get(web.url + "/confirm?token=" + token)
        if status != 200:
            raise RuntimeError(f"GET /confirm answered {status}")
        status, session = self._api(web.url + "/api/v1/sessions", "POST",
                                    {"email": "author@bench.example", "password": "bench-password"})
        if status != 201:
            raise RuntimeError(f"POST /api/v1/sessions answered {status}")
        paragraph = ("Benchmarks are ratios to a baseline measured in the same run, because the "
                     "machine is shared and noisy. *Emphasis*, `code` and [a link](/pages). ")
        body = "# A page to read\n\n" + "\n\n".join(paragraph * 2 for _ in range(6)) + \
            "\n\n- one\n- two\n- three\n"
        status, _ = self._api(web.url + "/api/v1/pages", "POST",
                              {"title": "A page to read", "slug": "bench", "body": body},
                              session["token"])
        if status != 201:
            raise RuntimeError(f"POST /api/v1/pages answered {status}")

    def pages(self):
        """GET /page/bench with wrk, 50 connections: from the page cache (anonymous visitors),
        and from the database with the cache off, beside a bare Beast server answering the same
        number of bytes."""
        db = self.tmp / "pages.db"
        web = self.web("web-pages", db, {"INKWELL_PASSWORD_HASH": "min", "INKWELL_BENCHMARK": "1"}).start()
        self._publish_page(web, db)
        wait_until(lambda: processes.http_get(web.url + "/page/bench")[0] == 200, 10, what="page")
        uncached = self.web("web-nocache", db, {"INKWELL_PAGE_CACHE_MB": "0"}).start()
        status, page = processes.http_get(web.url + "/page/bench")
        if status != 200:
            raise RuntimeError(f"GET /page/bench answered {status}")
        port = free_port()
        beast = self.started.spawn([self.bench_bin / "bench-http-server", "--port", port,
                                    "--threads", "1", "--body-bytes", len(page)],
                                   log=self.tmp / "beast.log")
        wait_until(lambda: self._port_open(port), 10, what="bench-http-server")
        self.page_bytes = len(page)
        for run in range(self.runs):
            hits_before = web.metric("inkwell_page_cache_hits_total") or 0
            misses_before = web.metric("inkwell_page_cache_misses_total") or 0
            cached, bad, _ = self.wrk(web.url + "/page/bench", 50, self.wrk_seconds)
            hits = (web.metric("inkwell_page_cache_hits_total") or 0) - hits_before
            misses = (web.metric("inkwell_page_cache_misses_total") or 0) - misses_before
            fresh, fresh_bad, _ = self.wrk(uncached.url + "/page/bench", 50, self.wrk_seconds)
            base, base_bad, _ = self.wrk(f"http://127.0.0.1:{port}/", 50, self.wrk_seconds)
            if bad or base_bad or fresh_bad:
                raise RuntimeError(f"GET answered non-2xx: cached {bad}, uncached {fresh_bad}, "
                                   f"baseline {base_bad}")
            self.add("page_cached", cached)
            self.add("page_uncached", fresh)
            self.add("beast", base)
            self.add("cache_hit_rate", 100.0 * hits / max(1.0, hits + misses))
            log(f"run {run + 1}: GET /page/bench cached {cached:,.0f} req/s "
                f"(hit rate {100.0 * hits / max(1.0, hits + misses):.2f} %), uncached {fresh:,.0f} "
                f"req/s, bare Beast {base:,.0f} req/s")
        self.started.stop(beast)
        self.add_rss("web (pages, uncached)", uncached.stop())
        self.add_rss("web", web.stop())

    # ------------------------------------------------------------------ all
    # ------------------------------------------------------------------ 7: storage engines
    def engines(self):
        """Registrations/s (MIN hash, 50 connections) with the web database on each engine:
        SQLite, and private PostgreSQL and MariaDB servers started here (var/bench-*, free
        ports, stopped at the end), the same command and load for all three."""
        weak = {"INKWELL_PASSWORD_HASH": "min", "INKWELL_BENCHMARK": "1"}
        urls = {"sqlite": str(self.tmp / "engines.db")}
        servers = []
        try:
            for engine, script, dir_var, port_var in (
                    ("postgresql", "postgres-node", "INKWELL_PG_DIR", "INKWELL_PG_PORT"),
                    ("mysql", "mariadb-node", "INKWELL_MYSQL_DIR", "INKWELL_MYSQL_PORT")):
                env = dict(os.environ)
                env[dir_var] = f"var/bench-{engine}"
                env[port_var] = str(free_port())
                argv = [str(ROOT / "scripts" / script)]
                subprocess.run(["rm", "-rf", str(ROOT / env[dir_var])], check=True, timeout=60)
                subprocess.run(argv + ["start"], env=env, check=True, capture_output=True,
                               timeout=120, cwd=str(ROOT))
                servers.append((argv, env, ROOT / env[dir_var]))
                urls[engine] = subprocess.run(argv + ["url"], env=env, check=True, text=True,
                                              capture_output=True, timeout=30,
                                              cwd=str(ROOT)).stdout.strip()
                log(f"{engine} server for the engine benchmark: {urls[engine]}")
            mailer = self.mailer("mailer-engines", f"smtp://127.0.0.1:{self.smtp_sink_port}")
            mailer.start()
            for engine, url in urls.items():
                web = self.web(f"web-{engine}", url, weak).start()
                for run in range(self.runs):
                    rate, bad, errors = self.wrk(web.url + "/api/v1/users", 50, self.wrk_seconds,
                                                 "register.lua", f"{engine}{run}")
                    if bad:
                        raise RuntimeError(f"{engine}: {bad} non-2xx responses ({errors})")
                    self.add(f"engine_{engine}", rate)
                    log(f"run {run + 1}: {engine}: {rate:,.0f} registrations/s (MIN hash, 50 connections)")
                web.stop()
            mailer.stop()
        finally:
            for argv, env, data_dir in servers:
                subprocess.run(argv + ["stop"], env=env, capture_output=True, timeout=120,
                               cwd=str(ROOT))
                subprocess.run(["rm", "-rf", str(data_dir), f"{data_dir}.log", f"{data_dir}.port"],
                               timeout=60)

    def run(self):
        self.start()
        for run in range(self.runs):
            self.relay_and_mailer(run)
        self.registration_min()
        self.registration_production()
        self.pages()

    def stop(self):
        self.started.stop_all()
        self.broker.stop()

    def remove_files(self):
        """Deletes the temporary directory (maildirs and broker data can take a while)."""
        if self.args.keep:
            return
        try:
            subprocess.run(["rm", "-rf", str(self.tmp)], timeout=180)
        except subprocess.TimeoutExpired:
            log(f"could not remove {self.tmp} within 180 s; remove it by hand")


def rows(suite):
    r = suite.results
    mib = lambda values: [v / MIB for v in values]  # noqa: E731
    out = [
        report.Row("1. outbox relay: rows published + confirmed", "msg/s", r["relay"],
                   baseline_name="rabbitmq-c publisher, window 256", baseline=r["publisher"],
                   target="≥ 0.8×", judge=lambda row: row.median_ratio() >= 0.8),
        report.Row("2. mailer → smtp-sink (8 workers)", "mail/s", r["mailer_smtp"],
                   baseline_name="rabbitmq-c consumer, prefetch 500", baseline=r["consumer"],
                   target="≥ 0.5×", judge=lambda row: row.median_ratio() >= 0.5),
        report.Row("2. mailer → maildir (fsync per mail)", "mail/s", r["mailer_maildir"],
                   baseline_name="rabbitmq-c consumer, prefetch 500", baseline=r["consumer"]),
        report.Row("3. registrations, MIN argon2id, 10 connections", "req/s", r["registration_c10"]),
        report.Row("3. registrations, MIN argon2id, 50 connections", "req/s", r["registration_c50"]),
        report.Row("3. registration → mail at 200/s: p50", "ms", r["mail_p50"], 1),
        report.Row("3. registration → mail at 200/s: p99", "ms", r["mail_p99"], 1, target="≤ 25 ms",
                   judge=lambda row: statistics.median(row.values) <= 25),
        report.Row("3. registration → mail at 200/s: max", "ms", r["mail_max"], 1),
        report.Row("3. registration response at 200/s: p50", "ms", r["response_p50"], 1),
        report.Row("3. registration response at 200/s: p99", "ms", r["response_p99"], 1),
        report.Row("3. load generator's start behind schedule: p99", "ms", r["lag_p99"], 2),
        report.Row("4. registrations, production argon2id, 10 connections", "req/s",
                   r["production_rate"], 1, baseline_name="cores ÷ one hash (before + after, mean)",
                   baseline=r["production_ideal"], target="≥ 0.9×",
                   judge=lambda row: row.median_ratio() >= 0.9),
        report.Row("4. registrations, production argon2id, 10 connections", "req/s",
                   r["production_rate"], 1,
                   baseline_name=f"bare libsodium, {os.cpu_count()} threads hashing (before + after, mean)",
                   baseline=r["production_all_cores"]),
        report.Row(f"4. bare libsodium, {os.cpu_count()} threads hashing", "hashes/s",
                   r["production_all_cores"], 1, baseline_name="cores ÷ one hash",
                   baseline=r["production_ideal"]),
        report.Row("4. one argon2id hash (INTERACTIVE), one thread, mean of before + after", "ms",
                   r["argon2id_ms"], 1),
        report.Row("4. GET /healthz meanwhile: p99", "ms", r["healthz_p99"], 2, target="≤ 5 ms",
                   judge=lambda row: statistics.median(row.values) <= 5),
        report.Row("4. GET /healthz meanwhile: max", "ms", r["healthz_max"], 2),
        report.Row(f"5. GET /page/{{slug}} from the page cache ({suite.page_bytes} B), 50 connections",
                   "req/s", r["page_cached"], baseline_name="bare Beast, same size, 1 thread",
                   baseline=r["beast"], target="≥ 0.5×", judge=lambda row: row.median_ratio() >= 0.5),
        report.Row("5. the same page rendered from SQLite (cache off), 50 connections", "req/s",
                   r["page_uncached"], baseline_name="bare Beast, same size, 1 thread",
                   baseline=r["beast"]),
        report.Row("5. page cache hit rate during the cached run", "%", r["cache_hit_rate"], 2),
    ]
    for name, limit in (("web", 64), ("mailer", 32)):
        out.append(report.Row(f"6. peak RSS (VmHWM) {name}", "MiB", mib(suite.rss.get(name, [])), 1,
                              target=f"< {limit} MiB",
                              judge=lambda row, limit=limit: bool(row.values) and max(row.values) < limit))
    for name in ("web (relay)", "web (production argon2id)", "web (pages, uncached)"):
        out.append(report.Row(f"6. peak RSS (VmHWM) {name}", "MiB", mib(suite.rss.get(name, [])), 1))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small loads; under 2 minutes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--bench-bin-dir", default=str(ROOT / "build" / "bench"))
    parser.add_argument("--broker-port", type=int, default=5792)
    parser.add_argument("--command", default="bench/run")
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--only", choices=("relay", "registration", "production", "pages", "engines"),
                        help="run one benchmark and print its per-run lines (no table, no docs): "
                             "for iterating on one figure")
    args = parser.parse_args()
    args.runs = max(3, args.runs)

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    started = time.monotonic()
    suite = Suite(args)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    try:
        try:
            if args.only:
                suite.start()
                {"relay": lambda: [suite.relay_and_mailer(run) for run in range(suite.runs)],
                 "registration": suite.registration_min,
                 "production": suite.registration_production,
                 "pages": suite.pages,
                 "engines": suite.engines}[args.only]()
            else:
                suite.run()
        finally:
            suite.stop()
        if args.only:
            log(f"--only {args.only}: {json.dumps(suite.results)}")
        else:
            publish(suite, args, host, date, started)
    finally:
        suite.remove_files()


def publish(suite, args, host, date, started):
    """Prints the table and (unless --no-docs) writes docs/PERFORMANCE.md and the chart."""
    table_rows = rows(suite)
    print(report.table(table_rows))
    elapsed = time.monotonic() - started
    log(f"finished in {elapsed:.0f} s")
    if args.no_docs:
        return
    notes = {"runs": args.runs, "lines": [
        f"Loads: {suite.count:,} outbox rows / queued commands per run (maildir: "
        f"{suite.maildir_count:,}); wrk for {suite.wrk_seconds} s per point; the fixed-rate "
        f"generator offers 200 registrations/s for {suite.offered_seconds} s (open loop: each "
        "request leaves at its scheduled time, and latencies count from that time;"
        " bench-registration-load, in C++). Registration → mail is measured to the SMTP server "
        "inside the load generator; throughput to postfix's smtp-sink. The whole suite took " f"{elapsed:.0f} s.",
        "",
        "Page reads: `GET /page/bench`, a published page of about 1 KB of Markdown, by anonymous "
        "visitors, whose pages the page cache keeps whole (the hit rate is read from the "
        "instance's /metrics); the uncached figure is a second instance on the same database "
        "with INKWELL_PAGE_CACHE_MB=0, which reads SQLite and renders Markdown and the template "
        "on every request. Peak RSS of the web service under production argon2id "
        f"includes the hashing pool's working memory ({os.cpu_count()} threads × 64 MiB), "
        "so it is reported apart from the < 64 MiB target.",
    ]}
    if suite.capped:
        capped = "; ".join(f"{name}: {len(left)} of {args.runs} runs, up to {max(left):,.0f} left"
                           for name, left in suite.capped.items())
        notes["lines"] += ["", f"Drains are capped at {suite.cap_seconds} s of measuring, so a "
                           f"figure far below its baseline cannot stretch the suite past its "
                           f"bound; the rate is over what was done. Capped: {capped}."]
    doc = ROOT / "docs" / "PERFORMANCE.md"
    report.write_section(doc, args.command, host, date, table_rows, notes, "performance.png")
    chart_dir = Path(tempfile.mkdtemp(prefix="inkwell-chart-"))
    try:
        def ratio(prefix):  # the first row whose name starts with prefix
            return next(row for row in table_rows if row.name.startswith(prefix)).median_ratio()

        bars = [("relay / publisher", ratio("1. outbox relay"), 0.8),
                ("mailer smtp / consumer", ratio("2. mailer → smtp-sink"), 0.5),
                ("mailer maildir / consumer", ratio("2. mailer → maildir"), None),
                ("argon2id regs / ideal", ratio("4. registrations, production"), 0.9),
                ("cached page / Beast", ratio("5. GET /page"), 0.5),
                ("uncached page / Beast", ratio("5. the same page"), None)]
        report.draw_chart(ROOT / "docs" / "performance.png", chart_dir,
                          [("registration → mail", sorted(suite.latency["mail"])),
                           ("registration response", sorted(suite.latency["response"]))], bars)
    finally:
        subprocess.run(["rm", "-rf", str(chart_dir)], timeout=30)
    log("wrote docs/PERFORMANCE.md and docs/performance.png")


if __name__ == "__main__":
    main()
