"""Contracts for any language: the pika examples in examples/python/ against the running system,
and real messages captured from it validated against docs/asyncapi.yaml.

Capture queues are bound before any traffic: a second queue on exchange `email` with key `send`
(a copy; the mailer's queue `email` still gets every message), and queues on `events` and
`logs` with "#". Every captured message must match its message in docs/asyncapi.yaml: body
against the JSON Schema (and no undocumented fields), AMQP properties against
x-amqp-properties, headers against the headers schema.
"""

import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import jsonschema  # noqa: E402
import pika  # noqa: E402
import yaml  # noqa: E402

EXAMPLES = harness.REPO / "examples" / "python"
ASYNCAPI = harness.REPO / "docs" / "asyncapi.yaml"
PASSWORD = "correct horse battery"
MAIL_BOUND = 10.0
DUP_SETTLE = 1.0
CAPTURE = {"email": ("email", "send"), "events": ("events", "#"), "logs": ("logs", "#"),
           "cache": ("cache", "")}
# docs/asyncapi.yaml's message for each routing key on `events`.
EVENT_MESSAGES = {"user.registered": "UserRegistered", "user.confirmed": "UserConfirmed",
                  "page.updated": "PageUpdated", "page.deleted": "PageDeleted",
                  "post.published": "PostPublished", "comment.created": "CommentCreated"}
TRACE_STEPS = {("inkwell-web", "http request"), ("inkwell-web", "outbox insert"),
               ("inkwell-web", "publish + confirm"), ("inkwell-mailer", "mailer receive"),
               ("inkwell-mailer", "smtp reply")}


def unique_address(tag):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.org"


def inline(document, node):
    """node with every local $ref replaced by its target."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = document
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return inline(document, target)
        return {key: inline(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(document, value) for value in node]
    return node


class Captured:
    def __init__(self, method, properties, body):
        self.exchange = method.exchange
        self.routing_key = method.routing_key
        self.properties = properties
        self.headers = dict(properties.headers or {})
        self.raw = body
        self.body = json.loads(body)

    def amqp_properties(self):
        p = self.properties
        values = {"message_id": p.message_id, "type": p.type, "app_id": p.app_id,
                  "timestamp": p.timestamp, "content_type": p.content_type,
                  "delivery_mode": p.delivery_mode}
        return {k: v for k, v in values.items() if v is not None}

    def __repr__(self):
        return f"<{self.exchange}/{self.routing_key} {self.amqp_properties()} {self.raw[:300]!r}>"


class ContractsTest(harness.IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doc = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
        cls.mailer = cls.add_service(harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
        cls.web = cls.add_service(harness.web_service(cls.tmp, cls.node.url))
        cls.web.wait_ready()
        cls.mailer.wait_ready()
        # The services declared the exchanges; bind our capture queues before any traffic.
        cls.captured = {name: [] for name in CAPTURE}
        with cls.node.channel() as ch:
            for name, (exchange, key) in CAPTURE.items():
                q = f"contract-capture.{name}"
                ch.queue_declare(q, durable=False, arguments={"x-expires": 600000})
                ch.queue_bind(q, exchange, routing_key=key)

    # -- helpers ---------------------------------------------------------------

    def drain(self):
        """Move every message waiting in the capture queues into self.captured."""
        with self.node.channel() as ch:
            for name in CAPTURE:
                while True:
                    method, properties, body = ch.basic_get(f"contract-capture.{name}",
                                                            auto_ack=True)
                    if method is None:
                        break
                    self.captured[name].append(Captured(method, properties, body))
        return self.captured

    def run_example(self, script, *args, timeout=30):
        return subprocess.run(
            [sys.executable, "-B", str(EXAMPLES / script), "--url", self.node.url, *args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})

    def register(self, address, name="Contract User"):
        status, headers, body = harness.http_post_json(
            self.web.base_url + "/api/v1/users",
            {"name": name, "email": address, "password": PASSWORD})
        self.assertEqual(status, 201, body[:500])
        return json.loads(body)["id"], headers.get("traceparent")

    def one_mail(self, address):
        try:
            self.smtp.wait_for(1, MAIL_BOUND, to=address)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.dump_logs()}") from None
        time.sleep(DUP_SETTLE)
        mails = self.smtp.messages_to(address)
        self.assertEqual(len(mails), 1, f"expected exactly one mail to {address}: {mails!r}")
        return mails[0]

    def message_spec(self, name):
        return self.doc["components"]["messages"][name]

    def validate(self, message, name):
        """Body, AMQP properties and headers of one captured message against message `name`."""
        spec = self.message_spec(name)
        payload = inline(self.doc, spec["payload"])
        jsonschema.Draft7Validator(payload).validate(message.body)
        documented = set(payload.get("properties", {}))
        for form in payload.get("oneOf", []):
            documented |= set(form.get("properties", {}))
        undocumented = set(message.body) - documented
        self.assertFalse(undocumented, f"fields not in docs/asyncapi.yaml {name}: {undocumented}")
        jsonschema.Draft7Validator(spec["x-amqp-properties"]).validate(message.amqp_properties())
        if "headers" in spec:
            jsonschema.Draft7Validator(inline(self.doc, spec["headers"])).validate(message.headers)
        else:
            self.assertEqual(message.headers, {}, f"{name} documents no headers")

    def publish_poison(self, message_id, traceparent):
        """A body that is not JSON, straight to queue `email` (not through the captured
        exchange): the mailer dead-letters it and logs an error record."""
        self.node.publish("", "email", b"not json", pika.BasicProperties(
            message_id=message_id, type="email.send", content_type="application/json",
            delivery_mode=2, headers={"traceparent": traceparent}))

    # -- the pika consumer -------------------------------------------------------

    def test_watch_events_sees_user_registered(self):
        proc = subprocess.Popen(
            [sys.executable, "-B", str(EXAMPLES / "watch_events.py"), "--url", self.node.url,
             "--count", "1", "--timeout", "30"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        try:
            stderr_lines = queue.Queue()
            threading.Thread(target=lambda: [stderr_lines.put(line) for line in proc.stderr],
                             daemon=True).start()
            # Events nobody listens to are dropped: register only once the queue is bound.
            line = stderr_lines.get(timeout=15)
            self.assertIn("listening", line)
            address = unique_address("watched")
            user_id, _ = self.register(address, name="Watched User")
            out, _ = proc.communicate(timeout=40)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self.assertEqual(proc.returncode, 0, f"watch_events.py exited {proc.returncode}: {out!r}")
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 1, out)
        routing_key, _, body = lines[0].partition(" ")
        self.assertEqual(routing_key, "user.registered")
        event = json.loads(body)
        self.assertEqual((event["user_id"], event["email"], event["name"]),
                         (user_id, address, "Watched User"))

    # -- the pika producer -------------------------------------------------------

    def test_send_email_is_delivered_once(self):
        address = unique_address("pika")
        r = self.run_example("send_email.py", "--to", address, "--subject", "Contract check",
                             "--text", "Sent by the pika example.")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("queued", r.stdout)
        mail = self.one_mail(address)
        self.assertEqual(mail.message["Subject"], "Contract check")
        self.assertIn("Sent by the pika example.", mail.part("text/plain"))

    def test_send_email_template(self):
        address = unique_address("tmpl")
        r = self.run_example("send_email.py", "--to", address, "--template", "welcome",
                             "--data", "name=Templated")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        mail = self.one_mail(address)
        self.assertEqual(mail.message["Subject"], "You've successfully registered!")
        self.assertIn("Templated", mail.part("text/plain"))

    def test_send_email_legacy_body(self):
        address = unique_address("legacy")
        text = f"Thanks for joining, ticket {uuid.uuid4().hex[:8]}"
        r = self.run_example("send_email.py", "--legacy", "--to", address, "--message", text)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("exchange='' routing_key='email'", r.stdout)
        mail = self.one_mail(address)
        self.assertEqual(mail.message["Subject"], "You've successfully registered!")
        plain = mail.part("text/plain")
        self.assertIn(f"Hello {address},", plain)
        self.assertIn(text, plain)

    # -- captured messages against docs/asyncapi.yaml -----------------------------

    def test_cms_events_and_cache_invalidations_match_asyncapi(self):
        """Every CMS message the web service publishes, captured from the real broker, against
        its message in docs/asyncapi.yaml: the five domain events and cache.invalidate."""
        user = harness.register_and_confirm(self.web, self.smtp, name="Contract Author")
        token = harness.api_login(self.web, user["email"], user["password"])
        base = self.web.base_url + "/api/v1"
        slug = "contract-" + uuid.uuid4().hex[:8]
        for method, path, body, expected in (
                ("POST", "/pages", {"title": "T", "slug": slug, "body": "# B"}, 201),
                ("PUT", f"/pages/{slug}", {"slug": slug + "-2"}, 200),
                ("DELETE", f"/pages/{slug}-2", None, 204)):
            st, _, doc = harness.api_json(method, base + path, body, token=token)
            self.assertEqual(st, expected, doc)
        st, _, post = harness.api_json("POST", base + "/posts",
                                       {"title": "P", "body": "text", "published": True}, token=token)
        self.assertEqual(st, 201, post)
        st, _, doc = harness.api_json("POST", base + f"/posts/{post['id']}/comments", {"body": "hi"},
                                      token=token)
        self.assertEqual(st, 201, doc)
        wanted = {"user.confirmed", "page.updated", "page.deleted", "post.published", "comment.created"}

        def complete():
            captured = self.drain()
            seen = {m.routing_key for m in captured["events"]
                    if m.body.get("user_id") == user["id"] or m.body.get("author_id") == user["id"]
                    or m.body.get("slug", "").startswith(slug)}
            return wanted <= seen and len(captured["cache"]) >= 5

        try:
            harness.wait_until(complete, 15, interval=0.3, message="the CMS events")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.captured['events']}\n{self.dump_logs()}") from None
        for message in self.captured["events"]:
            with self.subTest(event=message):
                self.assertEqual(message.properties.type, message.routing_key)
                self.validate(message, EVENT_MESSAGES[message.routing_key])
        updates = [m for m in self.captured["events"] if m.routing_key == "page.updated"
                   and m.body["slug"].startswith(slug)]
        self.assertEqual([m.body.get("previous_slug") for m in updates], [None, slug])
        for message in self.captured["cache"]:
            with self.subTest(cache=message):
                self.assertEqual((message.exchange, message.properties.type), ("cache", "cache.invalidate"))
                self.validate(message, "CacheInvalidate")

    def test_captured_messages_match_asyncapi(self):
        # Traffic of our own (the other tests add theirs when they ran first).
        address = unique_address("captured")
        user_id, traceparent = self.register(address, name="Captured User")
        trace_id = traceparent.split("-")[1]
        r = self.run_example("send_email.py", "--to", unique_address("captured-pika"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.one_mail(address)
        # A poison message straight to queue `email` (not through the captured exchange): the
        # mailer dead-letters it and logs an error record.
        poison_id = str(uuid.uuid4())
        poison_trace = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
        self.publish_poison(poison_id, poison_trace)

        def complete():
            captured = self.drain()
            spans = {(m.body["service"], m.body["message"]) for m in captured["logs"]
                     if m.body.get("kind") == "span" and m.body.get("trace_id") == trace_id}
            events = [m for m in captured["events"] if m.body.get("email") == address]
            emails = {m.properties.app_id for m in captured["email"]}
            dead = [m for m in captured["logs"] if m.routing_key == "inkwell-mailer.error"
                    and m.body["fields"].get("message_id") == poison_id]
            return (TRACE_STEPS <= spans and events and dead
                    and {"inkwell-web", "inkwell-example"} <= emails)

        try:
            harness.wait_until(complete, 15, interval=0.3, message="all captured messages")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.captured}\n{self.dump_logs()}") from None
        captured = self.captured

        # exchange `email`, key `send`: inkwell-web's welcome requests and the example's
        for message in captured["email"]:
            with self.subTest(email=message):
                self.assertEqual((message.exchange, message.routing_key), ("email", "send"))
                self.validate(message, "EmailSendRequest")
                if message.properties.app_id == "inkwell-web":
                    self.assertIn("traceparent", message.headers)
        welcome = [m for m in captured["email"] if m.body.get("to") == address]
        self.assertEqual(len(welcome), 1, captured["email"])
        self.assertEqual(welcome[0].headers["traceparent"].split("-")[1], trace_id)

        # exchange `events`: user.registered
        known = set(self.doc["channels"]["events"]["x-inkwell-routing-keys"])
        for message in captured["events"]:
            with self.subTest(event=message):
                self.assertIn(message.routing_key, known)
                self.assertEqual(message.properties.type, message.routing_key)
                self.validate(message, EVENT_MESSAGES[message.routing_key])
        event = [m for m in captured["events"]
                 if m.routing_key == "user.registered" and m.body["email"] == address]
        self.assertEqual(len(event), 1, captured["events"])
        self.assertEqual(event[0].body["user_id"], user_id)
        self.assertEqual(event[0].body["name"], "Captured User")
        self.assertEqual(event[0].headers["traceparent"].split("-")[1], trace_id)

        # exchange `logs`: every record of both services
        services = set()
        for message in captured["logs"]:
            with self.subTest(log=message):
                self.validate(message, "LogRecord")
                record = message.body
                self.assertEqual(message.routing_key, f"{record['service']}.{record['level']}")
                self.assertEqual(message.properties.app_id, record["service"])
                services.add(record["service"])
        self.assertEqual(services, {"inkwell-web", "inkwell-mailer"})

        # queue `email.dead`: the poison message, with the mailer's x-inkwell-* headers
        with self.node.channel() as ch:
            method, properties, body = ch.basic_get("email.dead", auto_ack=True)
        self.assertIsNotNone(method, "nothing in email.dead")
        self.assertEqual((properties.message_id, body), (poison_id, b"not json"))
        self.assertEqual(properties.delivery_mode, 2)
        headers = dict(properties.headers or {})
        spec = self.message_spec("DeadLetteredEmail")
        jsonschema.Draft7Validator(inline(self.doc, spec["headers"])).validate(headers)
        self.assertEqual(headers["traceparent"], poison_trace)
        counts = {name: len(messages) for name, messages in captured.items()}
        counts["email.dead"] = 1
        print(f"\nvalidated against docs/asyncapi.yaml: {counts}", file=sys.stderr)


    # Issue 5 wants the trace id in every log record, including the mailer's verdicts that are
    # logged on its connection thread.
    def test_dead_letter_record_carries_trace_id(self):
        poison_id = str(uuid.uuid4())
        trace_id = uuid.uuid4().hex
        self.publish_poison(poison_id, f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01")

        def record():
            for m in self.drain()["logs"]:
                if m.body["fields"].get("message_id") == poison_id and m.body["level"] == "error":
                    return m.body
            return None

        self.assertEqual(harness.wait_until(record, 10, message="dead-letter record")
                         .get("trace_id"), trace_id)


if __name__ == "__main__":
    unittest.main()
