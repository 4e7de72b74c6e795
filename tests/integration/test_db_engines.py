"""The server database engines (issue 7), run once per engine with INKWELL_TEST_DB_ENGINE=
postgresql or mysql against the private servers scripts/test starts: a bad INKWELL_DB_URL stops
inkwell-web at once with a one-line error that says what to fix; two web instances on one
database (two outbox relays) publish each registration exactly once; and killing the database
server (kill -9) in the middle of a registration load loses no registration that was answered
201 — each gets exactly one welcome mail — while the others get a 503 in bounded time and
/readyz says not ready until the server is back."""

import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

PASSWORD = "correct horse battery"
MAIL_BOUND = 30.0
EVENT_BOUND = 30.0
SETTLE = 2.0
REQUEST_BOUND = 15.0    # no request may hang longer than this while the database is down
OUTAGE_DETECTED = 15.0  # database killed -> /readyz not 200
RECOVERY_BOUND = 60.0   # database back -> /readyz 200 again


def address(tag):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


@unittest.skipIf(harness.DB_ENGINE == "sqlite", "runs with INKWELL_TEST_DB_ENGINE=postgresql|mysql")
class DbEngineTest(harness.IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.db = harness.TestDatabase.for_path(cls.tmp / "shared.db")
            cls.mailer = cls.add_service(
                harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
            cls.web_a = cls.add_service(
                harness.web_service(cls.tmp, cls.node.url, name="web-a", db=cls.db))
            cls.web_b = cls.add_service(
                harness.web_service(cls.tmp, cls.node.url, name="web-b", db=cls.db))
            for svc in (cls.web_a, cls.web_b, cls.mailer):
                svc.wait_ready()
        except BaseException:
            cls._teardown_infra()
            raise

    def setUp(self):
        harness.db_server().start()  # idempotent; a failed test may have left it down
        for svc in (self.web_a, self.web_b):
            svc.wait_ready(RECOVERY_BOUND)

    def dump_logs(self):
        return "\n".join(svc.log_tail(40) for svc in (self.web_a, self.web_b, self.mailer))

    # -- start-up errors ---------------------------------------------------------

    def run_web(self, db_url):
        """Starts inkwell-web on db_url; returns (exit code, output, seconds)."""
        env = harness._base_env()
        env.update({"INKWELL_AMQP_URL": self.node.url, "INKWELL_DB_URL": db_url,
                    "INKWELL_HTTP_ADDR": f"127.0.0.1:{harness.free_port()}",
                    "INKWELL_LOG_LEVEL": "info"})
        started = time.monotonic()
        try:
            out = subprocess.run([str(harness.WEB_BIN)], env=env, capture_output=True, text=True,
                                 timeout=40, cwd=str(harness.REPO))
        except subprocess.TimeoutExpired:
            self.fail(f"inkwell-web kept running on {db_url!r}; expected a start-up error")
        return out.returncode, out.stdout + out.stderr, time.monotonic() - started

    def test_a_bad_database_url_stops_the_service_with_a_clear_error(self):
        url = urllib.parse.urlsplit(self.db.url)
        scheme, user, password = url.scheme, url.username, url.password
        host, port = url.hostname, url.port
        cases = [
            (f"{scheme}://{user}:{password}@{host}:notaport/inkwell", "INKWELL_DB_URL"),
            (f"{scheme}://{user}:{password}@{host}:{port}/", "database name is missing"),
            (f"{scheme}://{user}:wrong-secret-42@{host}:{port}/{self.db.name}", "password"),
            (f"{scheme}://{user}:{password}@{host}:{port}/no_such_db_7f3a", "no_such_db_7f3a"),
            (f"{scheme}://{user}:{password}@{host}:{harness.free_port()}/{self.db.name}",
             "is the server running"),
        ]
        for db_url, expected in cases:
            with self.subTest(db_url=db_url.replace(password, "***")):
                rc, output, seconds = self.run_web(db_url)
                self.assertNotEqual(rc, 0, output)
                self.assertIn(expected, output)
                self.assertNotIn("wrong-secret-42", output)
                self.assertLess(seconds, 20, output)

    def test_cli_reports_and_applies_the_schema(self):
        fresh = harness.TestDatabase(self.tmp / "cli.db")
        self.addCleanup(fresh.cleanup)
        cli = harness.BUILD_DIR / "src" / "cli" / "inkwell"

        def inkwell(*args):
            env = harness._base_env()
            env["INKWELL_DB_URL"] = fresh.url
            return subprocess.run([str(cli), *args], env=env, capture_output=True, text=True,
                                  timeout=60)

        before = inkwell("db", "status")
        self.assertEqual(before.returncode, 1, before.stdout + before.stderr)
        self.assertIn(f"engine    {harness.DB_ENGINE}", before.stdout)
        self.assertIn("schema    version 0 of ", before.stdout)
        self.assertIn("pending", before.stdout)
        self.assertIn(":***@", before.stdout)  # the password is never printed
        migrated = inkwell("db", "migrate")
        self.assertEqual(migrated.returncode, 0, migrated.stdout + migrated.stderr)
        self.assertIn("migrated", migrated.stdout)
        after = inkwell("db", "status")
        self.assertEqual(after.returncode, 0, after.stdout + after.stderr)
        self.assertIn("(up to date)", after.stdout)
        again = inkwell("db", "migrate")
        self.assertIn("nothing to do", again.stdout)

    # -- two relays on one database -------------------------------------------------

    def test_two_instances_publish_each_registration_once(self):
        tap = harness.EventTap(self.node, "events", keys=("user.registered",)).start()
        self.addCleanup(tap.stop)
        emails = [address("pair") for _ in range(40)]
        ids = {}
        errors = []

        def register(web, batch):
            for email in batch:
                try:
                    ids[email] = harness.api_register(web, email, PASSWORD)
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    errors.append(f"{email}: {exc}")

        threads = [threading.Thread(target=register, args=(web, emails[i::2]))
                   for i, web in enumerate((self.web_a, self.web_b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        wanted = set(ids.values())
        got = tap.wait_for("user.registered", len(wanted), EVENT_BOUND,
                           where=lambda d: d.get("user_id") in wanted, settle=SETTLE)
        published = [d.get("user_id") for _, d, _ in got]
        self.assertEqual(sorted(published), sorted(wanted),
                         "each registration's event exactly once")
        for email in emails:
            try:
                self.smtp.wait_for(1, MAIL_BOUND, to=email)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{self.dump_logs()}") from None
        time.sleep(SETTLE)
        for email in emails:
            self.assertEqual(len(self.smtp.messages_to(email)), 1, email)
        self.assertEqual(self.db.scalar(
            "SELECT COUNT(*) FROM outbox WHERE sent_at_ms IS NULL"), 0)

    # -- the database server dies mid-load --------------------------------------------

    def test_database_killed_mid_load_loses_no_accepted_registration(self):
        results = []  # (email, status, seconds)
        stop = threading.Event()

        def load():
            while not stop.is_set():
                email = address("load")
                started = time.monotonic()
                try:
                    st, _, _ = harness.api_json(
                        "POST", self.web_a.base_url + "/api/v1/users",
                        {"name": "Load", "email": email, "password": PASSWORD},
                        timeout=REQUEST_BOUND + 5)
                except OSError as exc:
                    st = f"error {exc!r}"
                results.append((email, st, time.monotonic() - started))
                time.sleep(0.02)

        worker = threading.Thread(target=load, name="registration-load", daemon=True)
        worker.start()
        try:
            time.sleep(2.0)
            harness.db_server().kill()
            killed_at = time.monotonic()
            harness.wait_until(
                lambda: harness.http_get(self.web_a.base_url + "/readyz", timeout=5)[0] != 200,
                OUTAGE_DETECTED, interval=0.2, message="/readyz not ready with the database down")
            time.sleep(1.5)
            harness.db_server().start()
            self.web_a.wait_ready(RECOVERY_BOUND)
            recovered_in = time.monotonic() - killed_at
            time.sleep(2.0)
        finally:
            stop.set()
            worker.join(REQUEST_BOUND + 10)
        accepted = [email for email, st, _ in results if st == 201]
        refused = [(email, st) for email, st, _ in results if st != 201]
        slowest = max(seconds for _, _, seconds in results)
        self.assertGreater(len(accepted), 10, results[:5])
        self.assertTrue(refused, "no registration was refused: the outage did not happen")
        self.assertEqual({st for _, st in refused}, {503}, refused[:10])
        self.assertLess(slowest, REQUEST_BOUND, "a request hung while the database was down")
        # Every accepted registration is stored, and got its one welcome mail.
        for email in accepted:
            self.assertEqual(self.db.scalar("SELECT COUNT(*) FROM users WHERE email = ?",
                                            (email,)), 1, email)
        for email in accepted:
            try:
                self.smtp.wait_for(1, MAIL_BOUND, to=email)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{self.dump_logs()}") from None
        time.sleep(SETTLE)
        duplicates = [e for e in accepted if len(self.smtp.messages_to(e)) != 1]
        self.assertEqual(duplicates, [])
        # A refused registration sent no mail unless the database kept it (a commit whose
        # answer was lost): never more than one.
        for email, _ in refused:
            self.assertLessEqual(len(self.smtp.messages_to(email)), 1, email)
        print(f"\n{harness.DB_ENGINE}: {len(accepted)} accepted, {len(refused)} refused (503), "
              f"recovered {recovered_in:.1f} s after kill -9, slowest request {slowest:.2f} s",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
