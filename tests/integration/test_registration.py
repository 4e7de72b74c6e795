"""Registration end to end: inkwell-web + inkwell-mailer + a private RabbitMQ
node + an in-process SMTP server. One welcome mail per accepted registration,
none for a rejected one (including a form POST without the CSRF cookie + field)."""

import json
import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

MAIL_BOUND = 5.0     # seconds from the HTTP answer to the mail at the SMTP server
DUP_SETTLE = 1.0     # extra wait before asserting "still exactly one"
REJECT_SETTLE = 1.5  # wait before asserting "no mail" for rejected requests
SUBJECT = "You've successfully registered!"
PASSWORD = "correct horse battery"


def unique_address(tag):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.org"


class RegistrationTest(harness.IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailer = cls.add_service(harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
        cls.web = cls.add_service(harness.web_service(cls.tmp, cls.node.url))
        cls.web.wait_ready()
        cls.mailer.wait_ready()

    # -- helpers ---------------------------------------------------------------

    def url(self, path):
        return self.web.base_url + path

    def form_defaults(self):
        """Hidden fields (e.g. a CSRF token) and cookies from GET /register, so a
        POST is rejected only for the reason under test."""
        status, headers, body = harness.http_get(self.url("/register"))
        self.assertEqual(status, 200, body[:500])
        form = harness.scrape_form(body)
        extra = {}
        cookie = harness.cookies_from(headers)
        if cookie:
            extra["Cookie"] = cookie
        return form, dict(form.hidden), extra

    def post_form(self, fields, drop=()):
        _, hidden, headers = self.form_defaults()
        data = dict(hidden)
        data.update(fields)
        for k in drop:
            data.pop(k, None)
        return harness.http_post_form(self.url("/register"), data, headers=headers)

    def register_form(self, address, name="Form User", password=PASSWORD):
        return self.post_form({"user_name": name, "user_email": address,
                               "user_password": password})

    def register_json(self, address, name="Json User", password=PASSWORD):
        return harness.http_post_json(self.url("/api/v1/users"),
                                      {"name": name, "email": address, "password": password})

    def assert_welcome_once(self, address):
        try:
            mails = self.smtp.wait_for(1, MAIL_BOUND, to=address)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.dump_logs()}") from None
        time.sleep(DUP_SETTLE)
        mails = self.smtp.messages_to(address)
        self.assertEqual(len(mails), 1, f"expected exactly one mail to {address}: {mails!r}")
        mail = mails[0]
        msg = mail.message
        self.assertEqual([r.lower() for r in mail.rcpt_tos], [address.lower()])
        self.assertEqual(msg["Subject"], SUBJECT)
        self.assertEqual([a.addr_spec.lower() for a in msg["To"].addresses], [address.lower()])
        self.assertTrue(msg["Message-ID"], "no Message-ID header")
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        text, html = mail.part("text/plain"), mail.part("text/html")
        self.assertIsNotNone(text, "no text/plain part")
        self.assertIsNotNone(html, "no text/html part")
        self.assertIn(address, text)
        self.assertIn(address, html)
        return mail

    def assert_json_error(self, resp, status, code=None):
        st, headers, body = resp
        self.assertEqual(st, status, body[:500])
        self.assertIn("application/json", headers.get("Content-Type", ""))
        doc = json.loads(body)
        err = doc.get("error")
        self.assertIsInstance(err, dict, doc)
        self.assertTrue(err.get("code"), doc)
        self.assertTrue(err.get("message"), doc)
        if code is not None:
            self.assertEqual(err["code"], code, doc)

    def assert_html_error(self, resp, status):
        st, headers, body = resp
        self.assertEqual(st, status, body[:500])
        self.assertIn("text/html", headers.get("Content-Type", ""))
        form = harness.scrape_form(body)
        self.assertGreaterEqual(form.forms, 1, "error page does not re-show the form")
        self.assertLessEqual({"user_name", "user_email", "user_password"}, form.inputs)

    # -- tests -----------------------------------------------------------------

    def test_ops_endpoints(self):
        for svc in (self.web, self.mailer):
            st, _, body = harness.http_get(svc.base_url + "/healthz")
            self.assertEqual((st, body.strip()), (200, b"ok"), svc.name)
            st, _, _ = harness.http_get(svc.base_url + "/readyz")
            self.assertEqual(st, 200, svc.name)
            st, headers, body = harness.http_get(svc.base_url + "/metrics")
            self.assertEqual(st, 200, svc.name)
            self.assertIn("text/plain", headers.get("Content-Type", ""))
            self.assertIn(b"# TYPE", body)

    def test_register_form_page(self):
        form, _, _ = self.form_defaults()
        self.assertLessEqual({"user_name", "user_email", "user_password"}, form.inputs)

    def test_register_via_form(self):
        address = unique_address("form")
        st, headers, body = self.register_form(address)
        self.assertEqual(st, 303, body[:500])
        self.assertTrue(headers.get("Location"), "303 without Location")
        self.assert_welcome_once(address)

    def test_register_via_json(self):
        address = unique_address("json")
        st, headers, body = self.register_json(address)
        self.assertEqual(st, 201, body[:500])
        self.assertIn("application/json", headers.get("Content-Type", ""))
        doc = json.loads(body)
        self.assertIsInstance(doc.get("id"), int, doc)
        self.assert_welcome_once(address)

    def test_duplicate_email(self):
        address = unique_address("dup")
        st, _, body = self.register_json(address)
        self.assertEqual(st, 201, body[:500])
        self.assert_json_error(self.register_json(address, name="Again"), 409, "conflict")
        self.assert_html_error(self.register_form(address, name="Again"), 409)
        self.assert_welcome_once(address)
        time.sleep(REJECT_SETTLE - DUP_SETTLE)
        self.assertEqual(len(self.smtp.messages_to(address)), 1)

    def test_forged_csrf_is_refused_without_mail(self):
        """The register form is double-submit protected: the hidden csrf_token must
        equal the visitor's inkwell_csrf cookie (both from GET /register)."""
        _, hidden, headers = self.form_defaults()
        self.assertTrue(hidden.get("csrf_token"), "no csrf_token field on /register")
        self.assertIn("inkwell_csrf=", headers.get("Cookie", ""), "GET /register set no CSRF cookie")
        addresses = []

        def attempt(label, fields_csrf, cookie_headers):
            address = unique_address("csrf")
            addresses.append(address)
            data = {"user_name": "Forged", "user_email": address, "user_password": PASSWORD}
            if fields_csrf is not None:
                data["csrf_token"] = fields_csrf
            with self.subTest(case=label):
                st, h, body = harness.http_post_form(self.url("/register"), data,
                                                     headers=cookie_headers)
                self.assertEqual(st, 403, body[:500])
                self.assertIn("text/html", h.get("Content-Type", ""))
                self.assertIsNone(h.get("Location"))

        other_token = self.form_defaults()[1]["csrf_token"]
        attempt("no field", None, headers)
        attempt("empty field", "", headers)
        attempt("wrong field", "A" * 43, headers)
        attempt("another visitor's token", other_token, headers)
        attempt("no cookie", hidden["csrf_token"], None)
        time.sleep(REJECT_SETTLE)
        lowered = {a.lower() for a in addresses}
        leaked = [m for m in self.smtp.messages() if {r.lower() for r in m.rcpt_tos} & lowered]
        self.assertEqual(leaked, [], "mail sent for a forged registration form")

    def test_rejections_send_no_mail(self):
        before = self.smtp.count
        api = self.url("/api/v1/users")
        long_address = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "example.org"  # 259 chars
        self.assertGreater(len(long_address), 254)
        injection = "a@b.c\r\nBcc: x@y.z"
        addresses = []

        def addr(tag):
            a = unique_address(tag)
            addresses.append(a)
            return a

        json_cases = [
            ("missing password", lambda: harness.http_post_json(
                api, {"name": "N", "email": addr("j-missing")}), 400, "invalid_argument"),
            ("missing email", lambda: harness.http_post_json(
                api, {"name": "N", "password": PASSWORD}), 400, "invalid_argument"),
            ("email > 254", lambda: self.register_json(long_address), 400, "invalid_argument"),
            ("malformed email", lambda: self.register_json("not-an-address"), 400,
             "invalid_argument"),
            ("CR/LF in email", lambda: self.register_json(injection), 400, "invalid_argument"),
            ("short password", lambda: self.register_json(addr("j-short"), password="1234567"),
             400, "invalid_argument"),
            ("non-UTF-8 name", lambda: harness.http_post(
                api, b'{"name":"\xff\xfe","email":"' + addr("j-utf8").encode()
                + b'","password":"' + PASSWORD.encode() + b'"}', "application/json"),
             400, None),
            ("malformed JSON", lambda: harness.http_post(api, b'{"name":', "application/json"),
             400, None),
            ("body > 64 KiB", lambda: self.register_json(addr("j-big"), name="x" * 70000),
             413, None),
            ("text/plain", lambda: harness.http_post(
                api, json.dumps({"name": "N", "email": addr("j-ctype"), "password": PASSWORD}),
                "text/plain"), 415, None),
        ]
        form_cases = [
            ("missing email", lambda: self.post_form(
                {"user_name": "N", "user_password": PASSWORD}, drop=("user_email",)), 400),
            ("email > 254", lambda: self.register_form(long_address), 400),
            ("malformed email", lambda: self.register_form("not-an-address"), 400),
            ("CR/LF in email", lambda: self.register_form(injection), 400),
            ("short password", lambda: self.register_form(addr("f-short"), password="short"), 400),
            ("non-UTF-8 name", lambda: self.register_form(addr("f-utf8"), name=b"\xff\xfe"), 400),
            ("body > 64 KiB", lambda: self.register_form(addr("f-big"), name="x" * 70000), 413),
            ("application/json", lambda: harness.http_post_json(
                self.url("/register"), {"user_name": "N", "user_email": addr("f-ctype"),
                                        "user_password": PASSWORD}), 415),
        ]

        def call(fn):
            try:
                return fn()
            except ConnectionResetError:
                self.fail("server reset the connection instead of answering "
                          "(close only after the response is sent / body drained)")

        for label, fn, status, code in json_cases:
            with self.subTest(api="json", case=label):
                self.assert_json_error(call(fn), status, code)
        for label, fn, status in form_cases:
            with self.subTest(api="form", case=label):
                self.assert_html_error(call(fn), status)

        # User input re-shown on an error page is escaped.
        with self.subTest(api="form", case="escaping"):
            st, _, body = self.register_form("not-an-address", name="<script>alert(1)</script>")
            self.assertEqual(st, 400)
            self.assertNotIn(b"<script>alert(1)", body)

        time.sleep(REJECT_SETTLE)
        leaked = [m for m in self.smtp.messages()
                  if {r.lower() for r in m.rcpt_tos}
                  & {a.lower() for a in addresses + [long_address, "x@y.z", "a@b.c"]}]
        self.assertEqual(leaked, [], "mail sent for a rejected registration")
        self.assertEqual(self.smtp.count, before,
                         f"unexpected mail(s): {self.smtp.messages()[before:]!r}")


if __name__ == "__main__":
    unittest.main()
