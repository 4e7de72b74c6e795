"""Log aggregation and tracing end to end (issue 5): inkwell-web and inkwell-mailer
ship their records over the `logs` exchange, inkwell-logd writes them to rotating
JSON-lines files, and `inkwell logs` / `inkwell trace` read them back.

Shows: records of both services in logd's files and through `inkwell logs --trace`;
`inkwell trace` with all five steps of one registration; no record lost or repeated
across a logd restart or a rotation; and a dead broker never delays a request."""

import json
import math
import os
import subprocess
import sys
import time
import unittest
import uuid
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

LOGD_BIN = harness.BUILD_DIR / "src" / "logd" / "inkwell-logd"
CLI_BIN = harness.BUILD_DIR / "src" / "cli" / "inkwell"
PASSWORD = "correct horse battery"
STEPS = ["http request", "outbox insert", "publish + confirm", "mailer receive", "smtp reply"]
ARRIVAL_BOUND = 20.0  # seconds for a record to travel service -> broker -> logd -> file
LATENCY_SAMPLES = 100
# A request that waited on the dead broker (a connect or publish timeout) would take seconds.
# The bound is on the p95 and the worst case, not on the p99: with the suite's tests running two
# at a time (one of them may be the Chromium browser test), a single scheduling stall of ~50 ms
# made a p99 of 50 samples fail with the broker irrelevant to it.
P95_BOUND_MS = 50.0
MAX_BOUND_MS = 1000.0


def logd_service(tmp, amqp_url, log_dir, name="logd", extra_env=None):
    """inkwell-logd writing to log_dir (candidate for harness.py)."""
    port = harness.free_port()
    env = {
        "INKWELL_AMQP_URL": amqp_url,
        "INKWELL_LOG_LEVEL": harness.LOG_LEVEL,
        "INKWELL_LOGD_HTTP_ADDR": f"127.0.0.1:{port}",
        "INKWELL_LOG_DIR": str(log_dir),
    }
    env.update(extra_env or {})
    return harness.Service(LOGD_BIN, env, f"127.0.0.1:{port}", log_dir=tmp, name=name)


def new_trace_id():
    return uuid.uuid4().hex


def traceparent(trace_id):
    return f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class LogsTest(harness.IntegrationCase):
    owns_broker = True  # stops and restarts RabbitMQ

    @classmethod
    def setUpClass(cls):
        missing = [str(b) for b in (LOGD_BIN, CLI_BIN) if not b.exists()]
        if missing:
            raise RuntimeError("not built: " + ", ".join(missing) + " (set INKWELL_BUILD_DIR)")
        super().setUpClass()
        cls.log_dir = cls.tmp / "log"
        try:
            cls.logd = cls.add_service(logd_service(cls.tmp, cls.node.url, cls.log_dir))
            cls.mailer = cls.add_service(
                harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
            cls.web = cls.add_service(harness.web_service(cls.tmp, cls.node.url))
            cls.logd.wait_ready()
            cls.web.wait_ready()
            cls.mailer.wait_ready()
        except BaseException:
            cls._teardown_infra()
            raise

    # -- helpers ---------------------------------------------------------------

    def cli(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("INKWELL_")}
        done = subprocess.run([str(CLI_BIN), *args], env=env, capture_output=True, text=True,
                              timeout=60, cwd=str(self.tmp))
        return done.returncode, done.stdout, done.stderr

    def register(self, tag):
        """POST /api/v1/users; returns (trace id, address) after the welcome mail arrived."""
        address = f"{tag}-{uuid.uuid4().hex[:10]}@example.org"
        status, headers, body = harness.http_post_json(
            self.web.base_url + "/api/v1/users",
            {"name": "Log Reader", "email": address, "password": PASSWORD})
        self.assertEqual(status, 201, body[:300])
        trace_id = headers.get("traceparent", "").split("-")[1]
        self.assertEqual(len(trace_id), 32, headers.get("traceparent"))
        return trace_id, address

    def records(self):
        """Every record in every file of the log directory (current and rotated)."""
        found = []
        for path in sorted(self.log_dir.glob("*.jsonl")):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    found.append((path.name, json.loads(line)))
        return found

    def spans_by_trace(self):
        spans = {}
        for _, record in self.records():
            if record.get("kind") == "span" and record.get("trace_id"):
                spans.setdefault(record["trace_id"], []).append(record)
        return spans

    def wait_for_steps(self, trace_ids, steps, timeout=ARRIVAL_BOUND):
        def all_there():
            spans = self.spans_by_trace()
            return all(set(steps) <= {s["message"] for s in spans.get(t, [])} for t in trace_ids)
        harness.wait_until(all_there, timeout, interval=0.2,
                           message=f"spans {steps} of {len(trace_ids)} trace(s) in logd's files")

    def get_healthz(self, trace_id):
        status, _, _ = harness.http_get(self.web.base_url + "/healthz",
                                        headers={"traceparent": traceparent(trace_id)})
        self.assertEqual(status, 200)

    def assert_each_trace_once(self, trace_ids, step="http request", service="inkwell-web"):
        spans = self.spans_by_trace()
        counts = {t: sum(1 for s in spans.get(t, []) if s["message"] == step
                         and s["service"] == service) for t in trace_ids}
        wrong = {t: c for t, c in counts.items() if c != 1}
        self.assertEqual(wrong, {}, f"'{step}' spans per trace must be exactly 1")

    def queue_drained(self):
        return self.node.queue_count("logd") == 0

    # -- tests (numbered: they run in this order and the last stops the broker) --

    def test_1_web_and_mailer_records_reach_logd_files_and_inkwell_logs(self):
        trace_id, address = self.register("logs")
        self.smtp.wait_for(1, 15, to=address)
        self.wait_for_steps([trace_id], STEPS)

        by_file = {}
        for file_name, record in self.records():
            if record.get("trace_id") == trace_id:
                by_file.setdefault(file_name, []).append(record)
        self.assertIn("inkwell-web.jsonl", by_file)
        self.assertIn("inkwell-mailer.jsonl", by_file)

        rc, out, err = self.cli("logs", "--log-dir", str(self.log_dir), "--json",
                                "--trace", traceparent(trace_id))
        self.assertEqual(rc, 0, err)
        listed = [json.loads(line) for line in out.splitlines()]
        self.assertEqual({r["trace_id"] for r in listed}, {trace_id})
        self.assertEqual({r["service"] for r in listed} >= {"inkwell-web", "inkwell-mailer"}, True)
        times = [r["time"] for r in listed]
        self.assertEqual(times, sorted(times), "merged by time")

        rc, out, err = self.cli("logs", "--log-dir", str(self.log_dir), "--trace", trace_id,
                                "--service", "inkwell-mailer")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertTrue(lines and all(" inkwell-mailer " in line for line in lines), out)
        self.assertTrue(any("smtp reply" in line for line in lines), out)

        rc, out, _ = self.cli("logs", "--log-dir", str(self.log_dir), "--trace", trace_id,
                              "--level", "warn")
        self.assertEqual((rc, out), (0, ""), "spans are info")
        rc, out, _ = self.cli("logs", "--log-dir", str(self.log_dir), "--since", "10m",
                              "--service", "inkwell-web", "--json")
        self.assertEqual(rc, 0)
        self.assertIn(trace_id, out)
        rc, out, _ = self.cli("logs", "--log-dir", str(self.log_dir), "--until", "1h",
                              "--trace", trace_id)
        self.assertEqual((rc, out), (0, ""), "nothing of this trace is older than an hour")

    def test_2_inkwell_trace_shows_the_five_steps_of_a_registration(self):
        trace_id, address = self.register("trace")
        self.smtp.wait_for(1, 15, to=address)
        self.wait_for_steps([trace_id], STEPS)

        rc, out, err = self.cli("trace", "--log-dir", str(self.log_dir), trace_id)

        print(f"\n---- inkwell trace {trace_id}\n{out}", flush=True)
        self.assertEqual(rc, 0, err)
        step_lines = [line for line in out.splitlines() if line.startswith("  ")]
        order = [step for line in step_lines for step in STEPS if f" {step} " in line]
        self.assertEqual(set(order), set(STEPS), out)
        self.assertEqual(order[0], "http request", out)
        self.assertIn("POST /api/v1/users 201", step_lines[0])
        self.assertTrue(step_lines[0].lstrip().startswith("+0.000 ms"), step_lines[0])
        self.assertLess(order.index("outbox insert"), order.index("mailer receive"), out)
        self.assertLess(order.index("mailer receive"), order.index("smtp reply"), out)
        self.assertIn("distinct steps", out)
        self.assertNotIn("not seen", out)

        # A whole traceparent works too; an unknown trace is exit 1; garbage is exit 2.
        rc, out2, _ = self.cli("trace", "--log-dir", str(self.log_dir), traceparent(trace_id))
        self.assertEqual((rc, out2), (0, out))
        rc, _, err = self.cli("trace", "--log-dir", str(self.log_dir), new_trace_id())
        self.assertEqual(rc, 1, err)
        self.assertIn("no span", err)
        rc, _, err = self.cli("trace", "--log-dir", str(self.log_dir), "not-a-trace")
        self.assertEqual(rc, 2, err)

    def test_3_bad_usage_is_exit_2_and_nothing_readable_is_exit_1(self):
        rc, _, err = self.cli("logs", "--log-dir", str(self.log_dir), "--since", "yesterday")
        self.assertEqual(rc, 2, err)
        self.assertIn("--since", err)
        rc, _, err = self.cli("logs", "--log-dir", str(self.log_dir), "--level", "loud")
        self.assertEqual(rc, 2, err)
        rc, _, err = self.cli("logs", "--no-such-flag")
        self.assertEqual(rc, 2, err)
        rc, _, err = self.cli("logs", "--log-dir", str(self.tmp / "nowhere"))
        self.assertEqual(rc, 1, err)
        self.assertIn("nowhere", err)

    def test_3_invalid_record_is_kept_in_invalid_jsonl(self):
        marker = uuid.uuid4().hex
        self.node.publish("logs", "rogue.info", b"not json " + marker.encode() + b" \xff")

        def stored():
            return [r for name, r in self.records()
                    if name == "invalid.jsonl" and marker in r["fields"]["raw"]]
        found = harness.wait_until(stored, ARRIVAL_BOUND, message="the invalid record stored")
        self.assertEqual(found[0]["fields"]["routing_key"], "rogue.info")
        self.assertTrue(found[0]["fields"]["raw_hex"].endswith("ff"))
        self.logd.wait_ready(5)

    def test_4_logd_restart_loses_no_record(self):
        self.logd.stop()  # SIGTERM: exit 0 asserted
        healthz_traces = [new_trace_id() for _ in range(40)]
        for trace_id in healthz_traces:
            self.get_healthz(trace_id)
        registrations = [self.register("restart") for _ in range(3)]
        for _, address in registrations:
            self.smtp.wait_for(1, 15, to=address)
        registered = [t for t, _ in registrations]
        # The records wait in the `logd` queue meanwhile.
        harness.wait_until(lambda: self.node.queue_count("logd") > 0, 10,
                           message="records queued for logd")
        self.assertFalse(any(t in self.spans_by_trace() for t in healthz_traces))

        self.logd.start()
        self.logd.wait_ready()
        self.wait_for_steps(healthz_traces, ["http request"])
        self.wait_for_steps(registered, STEPS)
        harness.wait_until(self.queue_drained, 10, message="logd queue drained")

        self.assert_each_trace_once(healthz_traces)
        for step, service in (("http request", "inkwell-web"), ("outbox insert", "inkwell-web"),
                              ("mailer receive", "inkwell-mailer"),
                              ("smtp reply", "inkwell-mailer")):
            self.assert_each_trace_once(registered, step, service)

    def test_5_rotation_keeps_every_record(self):
        self.logd.stop()
        self.logd.env.update({"INKWELL_LOG_MAX_BYTES": "4096", "INKWELL_LOG_KEEP": "1000"})
        self.logd.start()
        self.logd.wait_ready()
        rotated_before = len(list(self.log_dir.glob("inkwell-web-*.jsonl")))

        trace_ids = [new_trace_id() for _ in range(150)]
        for trace_id in trace_ids:
            self.get_healthz(trace_id)
        self.wait_for_steps(trace_ids, ["http request"])
        harness.wait_until(self.queue_drained, 10, message="logd queue drained")

        rotated = sorted(self.log_dir.glob("inkwell-web-*.jsonl"))
        self.assertGreaterEqual(len(rotated) - rotated_before, 5, "150 spans of ~300 bytes in 4 KiB files")
        # (the first one rotated under the new limit is the big file written before it)
        for path in rotated[rotated_before + 1:]:
            self.assertLessEqual(path.stat().st_size, 4096, path.name)
        self.assert_each_trace_once(trace_ids)
        _, _, metrics = harness.http_get(self.logd.base_url + "/metrics")
        rotations = [line for line in metrics.decode().splitlines()
                     if line.startswith("inkwell_logd_rotations_total")]
        self.assertTrue(rotations and float(rotations[0].split()[-1]) >= 5, rotations)

        # `inkwell logs` reads the rotated files too, in time order.
        rc, out, err = self.cli("logs", "--log-dir", str(self.log_dir), "--json",
                                "--service", "inkwell-web", "--since", "10m")
        self.assertEqual(rc, 0, err)
        listed = [json.loads(line) for line in out.splitlines()]
        seen = [r["trace_id"] for r in listed if r.get("trace_id") in set(trace_ids)
                and r.get("message") == "http request"]
        self.assertEqual(sorted(seen), sorted(trace_ids))
        times = [r["time"] for r in listed]
        self.assertEqual(times, sorted(times))

    def test_6_follow_prints_new_records_across_a_rotation(self):
        proc = subprocess.Popen([str(CLI_BIN), "logs", "--log-dir", str(self.log_dir), "-f",
                                 "--json", "--service", "inkwell-web", "--since", "1s"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=str(self.tmp))
        try:
            time.sleep(0.5)
            trace_ids = [new_trace_id() for _ in range(60)]  # > 4 KiB: rotates meanwhile
            for trace_id in trace_ids:
                self.get_healthz(trace_id)
            self.wait_for_steps(trace_ids, ["http request"])
            time.sleep(1.0)  # a few poll rounds
        finally:
            proc.send_signal(2)  # SIGINT, as Ctrl-C
            out, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 0, err)
        seen = [json.loads(line).get("trace_id") for line in out.splitlines()]
        self.assertEqual(sorted(t for t in seen if t in set(trace_ids)), sorted(trace_ids))

    def test_7_dead_broker_never_delays_a_request(self):
        def timed(call):
            started = time.perf_counter()
            status = call()
            return status, (time.perf_counter() - started) * 1000.0

        def healthz():
            return harness.http_get(self.web.base_url + "/healthz", timeout=5)[0]

        def bad_registration():
            return harness.http_post_json(self.web.base_url + "/api/v1/users",
                                          {"name": "", "email": "not-an-address",
                                           "password": "x"}, timeout=5)[0]

        def measure():
            samples = {"GET /healthz": [], "POST /api/v1/users (400)": []}
            for _ in range(LATENCY_SAMPLES):
                for name, call, expected in (("GET /healthz", healthz, 200),
                                             ("POST /api/v1/users (400)", bad_registration, 400)):
                    status, millis = timed(call)
                    self.assertEqual(status, expected, name)
                    samples[name].append(millis)
            return samples

        baseline = measure()
        self.node.stop()
        try:
            time.sleep(1.0)  # the publisher notices the lost connection
            outage = measure()
        finally:
            self.node.start()
        for name, samples in outage.items():
            p50, p95, p99 = (percentile(samples, q) for q in (0.5, 0.95, 0.99))
            print(f"\n---- {name}: broker up p99 {percentile(baseline[name], 0.99):.2f} ms; "
                  f"broker down p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, "
                  f"max {max(samples):.2f} ms (n={len(samples)})", flush=True)
            self.assertLess(p95, P95_BOUND_MS, f"{name} while the broker is down")
            self.assertLess(max(samples), MAX_BOUND_MS, f"{name} while the broker is down")
        # The web kept logging: what it could not ship was buffered or counted as dropped.
        self.web.wait_ready(60)
        self.logd.wait_ready(60)


if __name__ == "__main__":
    unittest.main()
