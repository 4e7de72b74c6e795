"""inkwell-mailer against messages published straight to the `email` exchange:
poison goes to `email.dead`, the mailer keeps running, valid mail is sent
exactly once, a repeated message_id is sent once, and a backlog goes out in
pipelined batches."""

import json
import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402

import harness  # noqa: E402

MAIL_BOUND = 10.0
DEAD_BOUND = 15.0
SETTLE = 2.0


def unique_address(tag):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.org"


def props(message_id=None, content_type="application/json"):
    return pika.BasicProperties(content_type=content_type, delivery_mode=2,
                                message_id=message_id or uuid.uuid4().hex,
                                type="email.send", app_id="integration-test",
                                timestamp=int(time.time()))


class MailerPoisonTest(harness.IntegrationCase):
    needs = ("mailer",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailer = cls.add_service(harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
        try:
            cls.mailer.wait_ready()
            harness.wait_until(lambda: cls.node.exists(exchange="email", queue="email")
                               and cls.node.exists(queue="email.dead"),
                               20, interval=0.3, message="mailer topology (email, email.dead)")
        except BaseException:
            cls._teardown_infra()
            raise

    def publish(self, body, routing_key="send", properties=None):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        self.node.publish("email", routing_key, body, properties or props())

    def assert_mailer_alive(self):
        self.assertTrue(self.mailer.running, f"mailer died\n{self.mailer.log_tail()}")
        st, _, _ = harness.http_get(self.mailer.base_url + "/healthz")
        self.assertEqual(st, 200)

    def wait_dead(self, expected):
        try:
            harness.wait_until(lambda: self.node.queue_count("email.dead") >= expected,
                               DEAD_BOUND, interval=0.3, message=f"{expected} in email.dead")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; have {self.node.queue_count('email.dead')}\n"
                                 f"{self.mailer.log_tail()}") from None

    def test_poison_is_dead_lettered(self):
        dead0 = self.node.queue_count("email.dead")
        unknown_to = unique_address("unknown-template")
        self.publish(b"{this is not json")
        self.publish({"subject": "Hi", "text": "Hello"})  # no "to"
        self.publish({"to": unknown_to, "template": "no-such-template-xyz", "data": {}})

        good = unique_address("good")
        self.publish({"to": good, "subject": "Hi", "text": "Hello"})
        try:
            mails = self.smtp.wait_for(1, MAIL_BOUND, to=good)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.mailer.log_tail()}") from None
        self.assertEqual(mails[0].message["Subject"], "Hi")
        self.assertIn("Hello", mails[0].part("text/plain") or mails[0].message.get_content())

        self.wait_dead(dead0 + 3)
        time.sleep(SETTLE)
        self.assertEqual(self.node.queue_count("email.dead"), dead0 + 3)
        self.assertEqual(len(self.smtp.messages_to(good)), 1)
        self.assertEqual(self.smtp.messages_to(unknown_to), [])
        self.assert_mailer_alive()
        self.assertEqual(self.node.queue_count("email"), 0)

    def test_same_message_id_sent_once(self):
        to = unique_address("dedup")
        p = props(message_id=f"dedup-{uuid.uuid4().hex}")
        body = {"to": to, "subject": "Hi", "text": "Hello"}
        self.publish(body, properties=p)
        self.smtp.wait_for(1, MAIL_BOUND, to=to)
        self.publish(body, properties=p)
        # a third copy, after the mailer has surely seen the second one
        time.sleep(SETTLE)
        self.publish(body, properties=p)
        time.sleep(SETTLE)
        got = self.smtp.messages_to(to)
        self.assertEqual(len(got), 1, f"duplicate message_id delivered {len(got)} times: {got!r}")
        self.assert_mailer_alive()
        self.assertEqual(self.node.queue_count("email"), 0)

    def test_empty_routing_key(self):
        to = unique_address("emptykey")
        self.publish({"to": to, "subject": "Hi", "text": "Hello"}, routing_key="")
        self.smtp.wait_for(1, MAIL_BOUND, to=to)
        time.sleep(1)
        self.assertEqual(len(self.smtp.messages_to(to)), 1)

    def metric(self, name):
        """The value of one unlabelled series on the mailer's /metrics."""
        st, _, body = harness.http_get(self.mailer.base_url + "/metrics")
        self.assertEqual(st, 200)
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        self.fail(f"{name} not on /metrics")

    def test_backlog_goes_out_in_batches(self):
        # Messages that wait in the queue when the mailer starts are taken many at a time and
        # pipelined over each SMTP connection (up to 16 per send), each sent once.
        self.mailer.stop()
        tag = uuid.uuid4().hex[:8]
        addresses = [f"backlog-{tag}-{i}@example.org" for i in range(64)]
        try:
            for address in addresses:
                self.publish({"to": address, "subject": "Hi", "text": "Hello"})
        finally:
            self.mailer.start()
            self.mailer.wait_ready()
        harness.wait_until(lambda: all(self.smtp.messages_to(a) for a in addresses), MAIL_BOUND,
                           interval=0.2, message="the 64 backlog mails")
        sends = self.metric("inkwell_mailer_batch_messages_count")
        sent = self.metric("inkwell_mailer_batch_messages_sum")
        self.assertEqual(sent, 64, "only the backlog was sent since the restart")
        # 4 workers, 64 messages: 4 sends of 16 when every delivery is in before the workers
        # wake, a few more when they arrive over several reads (5-6 seen). Woken at each
        # delivery and taking a quarter of what waited, the workers had made 18 sends.
        self.assertLessEqual(sends, 12, f"{sends:.0f} sends for 64 messages")
        time.sleep(SETTLE)
        self.assertEqual([a for a in addresses if len(self.smtp.messages_to(a)) != 1], [])
        self.assertEqual(self.node.queue_count("email"), 0)
        # Every one acked, each counted once, as its ack went out.
        self.assertEqual(self.metric("inkwell_mailer_acked_total"), 64)


if __name__ == "__main__":
    unittest.main()
