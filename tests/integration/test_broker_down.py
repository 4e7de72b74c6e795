"""The broker goes away: registrations still succeed (transactional outbox) and
each one's welcome mail arrives exactly once after the broker is back."""

import json
import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

PASSWORD = "correct horse battery"
RECOVERY_BOUND = 60.0  # broker back -> mail at the SMTP server
SETTLE = 2.0


def unique_address(tag):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.org"


class BrokerDownTest(harness.IntegrationCase):
    owns_broker = True  # stops and kills RabbitMQ

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailer = cls.add_service(harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
        cls.web = cls.add_service(harness.web_service(cls.tmp, cls.node.url))
        cls.web.wait_ready()
        cls.mailer.wait_ready()

    def setUp(self):
        self.node.start()  # idempotent; a failed test may have left it down
        self.web.wait_ready(60)
        self.mailer.wait_ready(60)

    def register_json(self, address):
        return harness.http_post_json(self.web.base_url + "/api/v1/users",
                                      {"name": "Outage User", "email": address,
                                       "password": PASSWORD})

    def register_form(self, address):
        st, headers, body = harness.http_get(self.web.base_url + "/register")
        self.assertEqual(st, 200)
        fields = dict(harness.scrape_form(body).hidden)
        fields.update({"user_name": "Outage Form", "user_email": address,
                       "user_password": PASSWORD})
        cookie = harness.cookies_from(headers)
        return harness.http_post_form(self.web.base_url + "/register", fields,
                                      headers={"Cookie": cookie} if cookie else None)

    def readyz(self, svc):
        try:
            return harness.http_get(svc.base_url + "/readyz", timeout=3)[0]
        except OSError:
            return None

    def outage(self, take_down):
        before = unique_address("before")
        st, _, body = self.register_json(before)
        self.assertEqual(st, 201, body[:500])
        self.smtp.wait_for(1, 10, to=before)

        take_down()
        # /readyz must notice the broker is gone (checked at the end, so a
        # readiness bug doesn't hide the delivery result).
        saw_503 = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.readyz(self.web) == 503:
                saw_503 = True
                break
            time.sleep(0.2)

        during_json = unique_address("during-json")
        st, _, body = self.register_json(during_json)
        self.assertEqual(st, 201, f"registration failed while broker down: {body[:500]!r}")
        self.assertIsInstance(json.loads(body).get("id"), int)
        during_form = unique_address("during-form")
        st, _, body = self.register_form(during_form)
        self.assertEqual(st, 303, f"form registration failed while broker down: {body[:500]!r}")
        self.assertTrue(self.web.running and self.mailer.running)

        time.sleep(1)
        self.assertEqual(self.smtp.messages_to(during_json), [])

        t0 = time.monotonic()
        self.node.start()
        try:
            for a in (during_json, during_form):
                self.smtp.wait_for(1, RECOVERY_BOUND - (time.monotonic() - t0), to=a)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.dump_logs()}") from None
        print(f"\n[{self._testMethodName}] node start {self.node.start_seconds:.1f}s, "
              f"mails after restart {time.monotonic() - t0:.1f}s", file=sys.stderr)

        time.sleep(SETTLE)
        for a in (before, during_json, during_form):
            got = self.smtp.messages_to(a)
            self.assertEqual(len(got), 1, f"{a}: {got!r}")
            self.assertEqual(got[0].message["Subject"], "You've successfully registered!")

        for svc in (self.web, self.mailer):
            svc.wait_ready(30)
        self.assertTrue(saw_503, "web /readyz never said 503 while the broker was down")

    def test_broker_stopped(self):
        self.outage(self.node.stop)

    def test_broker_killed(self):
        self.outage(self.node.kill)


if __name__ == "__main__":
    unittest.main()
