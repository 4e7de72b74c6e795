"""The CMS end to end (issue 4): e-mail confirmation, sessions, CSRF, rate limits,
pages/posts/comments over the JSON API and the HTML site, domain events on the
`events` exchange, the page cache, and bad input that must get a clear error
and do no damage. Real RabbitMQ node, SMTP server, inkwell-web and inkwell-mailer."""

import hashlib
import json
import os
import re
import secrets
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

PASSWORD = "correct horse battery"
MAIL_BOUND = 10.0     # seconds from the HTTP answer to the mail at the SMTP server
EVENT_BOUND = 10.0    # seconds from the HTTP answer to the event on `events`
SETTLE = 1.0          # extra wait before asserting "exactly once" / "no mail"
CONFIRM_SUBJECT = "Confirm your e-mail address for inkwell"
SCRIPT = "<script>alert('x')</script>"
SQL_1 = "'; DROP TABLE users; --"
SQL_2 = "\" OR 1=1 --"


def unique_address(tag):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.org"


def unique_slug(tag="p"):
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def fake_token():
    """Well-formed (43 base64url characters) but never issued."""
    return secrets.token_urlsafe(32)[:43]


class CmsTest(harness.IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tap = None
        try:
            cls.db_path = cls.tmp / "web.db"
            cls.mailer = cls.add_service(
                harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
            cls.web = cls.add_service(harness.web_service(cls.tmp, cls.node.url, db=cls.db_path))
            cls.web.wait_ready()
            cls.mailer.wait_ready()
            cls.tap = harness.EventTap(cls.node, "events").start()
            cls.alice = harness.register_and_confirm(cls.web, cls.smtp, name="Alice Author",
                                                     password=PASSWORD, timeout=MAIL_BOUND)
            cls.bob = harness.register_and_confirm(cls.web, cls.smtp, name="Bob Reader",
                                                   password=PASSWORD, timeout=MAIL_BOUND)
            cls.alice_token = harness.api_login(cls.web, cls.alice["email"], PASSWORD)
            cls.bob_token = harness.api_login(cls.web, cls.bob["email"], PASSWORD)
        except BaseException:
            if cls.tap:
                cls.tap.stop()
            cls._teardown_infra()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.tap:
            cls.tap.stop()
        super().tearDownClass()

    # -- helpers ---------------------------------------------------------------

    def url(self, path):
        return self.web.base_url + path

    def api(self, method, path, obj=None, token=None, headers=None):
        return harness.api_json(method, self.url(path), obj, token=token, headers=headers)

    def raw(self, method, path, body, content_type=None, token=None, headers=None):
        h = dict(headers or {})
        if content_type:
            h["Content-Type"] = content_type
        if token:
            h.update(harness.bearer(token))
        if isinstance(body, str):
            body = body.encode("utf-8")
        return harness._request(method, self.url(path), body=body, headers=h)

    def html_client(self, login_as=None):
        client = harness.HtmlClient(self.web.base_url)
        if login_as is not None:
            client.login(login_as["email"], login_as["password"])
        return client

    def assert_json_error(self, resp, status, code=None):
        st, headers, doc = resp
        if isinstance(doc, (bytes, bytearray)):
            doc = json.loads(doc) if doc.strip() else None
        self.assertEqual(st, status, doc)
        self.assertIn("application/json", headers.get("Content-Type", ""))
        self.assertIsInstance(doc, dict, doc)
        err = doc.get("error")
        self.assertIsInstance(err, dict, doc)
        self.assertTrue(err.get("code"), doc)
        self.assertTrue(err.get("message"), doc)
        if code is not None:
            self.assertEqual(err["code"], code, doc)
        return err

    def assert_site_page(self, resp, status):
        """An HTML page in the site's own layout (header, style sheet, footer)."""
        st, headers, body = resp
        self.assertEqual(st, status, body[:800])
        self.assertIn("text/html", headers.get("Content-Type", ""))
        for marker in (b'href="/static/style.css"', b'class="site-header"', b'class="site-footer"'):
            self.assertIn(marker, body, f"{status} page without the site layout ({marker!r})")
        return body

    def new_page(self, token=None, **fields):
        doc = {"title": "A page", "slug": unique_slug(), "body": "Some *text*."}
        doc.update(fields)
        st, headers, page = self.api("POST", "/api/v1/pages", doc, token or self.alice_token)
        self.assertEqual(st, 201, page)
        self.assertEqual(headers.get("Location"), "/api/v1/pages/" + doc["slug"])
        return page

    def new_post(self, token=None, **fields):
        doc = {"title": "A post", "body": "Hello *world*.", "published": True}
        doc.update(fields)
        st, headers, post = self.api("POST", "/api/v1/posts", doc, token or self.alice_token)
        self.assertEqual(st, 201, post)
        self.assertEqual(headers.get("Location"), f"/api/v1/posts/{post['id']}")
        return post

    def get_page(self, slug):
        return self.api("GET", "/api/v1/pages/" + slug)

    def db(self):
        """The web service's database, whichever engine this run uses."""
        return harness.TestDatabase.for_path(self.db_path)

    def wait_mails(self, address, count, timeout=MAIL_BOUND):
        try:
            return self.smtp.wait_for(count, timeout, to=address)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.dump_logs()}") from None

    def assert_exactly_once(self, routing_key, where, label):
        got = self.tap.wait_for(routing_key, 1, EVENT_BOUND, where=where, settle=SETTLE)
        self.assertEqual(len(got), 1, f"{label}: expected exactly one {routing_key}, got "
                                      f"{[d for _, d, _ in got]!r}")
        return got[0][1]

    # -- accounts: confirmation ---------------------------------------------------

    def test_confirmation_link_login_and_event(self):
        address = unique_address("confirm")
        user_id = harness.api_register(self.web, address, PASSWORD, "Carol Confirm")
        mail = self.wait_mails(address, 1)[0]
        self.assertEqual(mail.message["Subject"], "You've successfully registered!")
        link = harness.confirm_link(mail)
        self.assertTrue(link.startswith(self.web.base_url + "/confirm?token="), link)
        self.assertIn(link.split("?", 1)[1], mail.part("text/html").replace("&amp;", "&"))

        # Not confirmed yet: the API says so, the HTML login offers a new link.
        st, _, doc = self.api("POST", "/api/v1/sessions", {"email": address, "password": PASSWORD})
        err = self.assert_json_error((st, _, doc), 403, "not_confirmed")
        self.assertIn("confirm", err["message"])
        client = self.html_client()
        resp = client.submit("/login", "/login", {"email": address, "password": PASSWORD})
        body = self.assert_site_page(resp, 403)
        self.assertIn(b'href="/confirm/resend"', body)
        self.assertNotIn("inkwell_session", client.cookies)

        # Confirm; the link works once.
        body = self.assert_site_page(harness.http_get(link), 200)
        self.assertIn(b"confirmed", body)
        body = self.assert_site_page(harness.http_get(link), 400)
        self.assertIn(b"already used", body)
        for bad in ("garbage", fake_token(), "", "%27%3B--", "a" * 500):
            with self.subTest(token=bad):
                self.assert_site_page(harness.http_get(self.url("/confirm?token=" + bad)), 400)
        self.assert_site_page(harness.http_get(self.url("/confirm")), 400)

        event = self.assert_exactly_once("user.confirmed", lambda d: d.get("user_id") == user_id,
                                         "confirmation")
        self.assertEqual(event["email"], address)
        self.assertIsInstance(harness.api_login(self.web, address, PASSWORD), str)

    def test_resend_link_replaces_the_old_one(self):
        address = unique_address("resend")
        harness.api_register(self.web, address, PASSWORD, "Dave Resend")
        first = harness.confirm_link(self.wait_mails(address, 1)[0])

        st, _, doc = self.api("POST", "/api/v1/confirmations", {"email": address})
        self.assertEqual(st, 202, doc)
        second_mail = self.wait_mails(address, 2)[1]
        self.assertEqual(second_mail.message["Subject"], CONFIRM_SUBJECT)
        second = harness.confirm_link(second_mail)
        self.assertNotEqual(first, second)

        client = self.html_client()
        st, headers, body = client.submit("/confirm/resend", "/confirm/resend", {"email": address})
        self.assertEqual(st, 303, body[:500])
        self.assertEqual(headers.get("Location"), "/login?notice=resent")
        third = harness.confirm_link(self.wait_mails(address, 3)[2])
        self.assertNotIn(third, (first, second))

        # Only the newest link works.
        self.assert_site_page(harness.http_get(first), 400)
        self.assert_site_page(harness.http_get(second), 400)
        self.assert_site_page(harness.http_get(third), 200)
        self.assertIsInstance(harness.api_login(self.web, address, PASSWORD), str)

        # The same answer for an unknown or confirmed address, and no mail.
        unknown = unique_address("nobody")
        for email in (unknown, address):
            st, _, doc = self.api("POST", "/api/v1/confirmations", {"email": email})
            self.assertEqual(st, 202, doc)
        time.sleep(SETTLE)
        self.assertEqual(self.smtp.messages_to(unknown), [])
        self.assertEqual(len(self.smtp.messages_to(address)), 3)

    def test_expired_confirmation_link(self):
        address = unique_address("expired")
        user_id = harness.api_register(self.web, address, PASSWORD, "Erin Expired")
        link = harness.confirm_link(self.wait_mails(address, 1)[0])
        self.db().execute("UPDATE confirmation_tokens SET expires_at_ms = 1 WHERE user_id = ?",
                          (user_id,))
        body = self.assert_site_page(harness.http_get(link), 400)
        self.assertIn(b"expired", body)
        st, _, doc = self.api("POST", "/api/v1/sessions", {"email": address, "password": PASSWORD})
        self.assert_json_error((st, _, doc), 403, "not_confirmed")

    # -- accounts: sessions ------------------------------------------------------

    def test_api_session_lifecycle(self):
        st, headers, doc = self.api("POST", "/api/v1/sessions",
                                    {"email": self.bob["email"], "password": PASSWORD})
        self.assertEqual(st, 201, doc)
        token = doc["token"]
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(doc["user"]["email"], self.bob["email"])
        self.assertIn("no-store", headers.get("Cache-Control", ""))

        wrong = self.api("POST", "/api/v1/sessions", {"email": self.bob["email"], "password": "x" * 12})
        unknown = self.api("POST", "/api/v1/sessions",
                           {"email": unique_address("ghost"), "password": "x" * 12})
        e1 = self.assert_json_error(wrong, 401)
        e2 = self.assert_json_error(unknown, 401)
        self.assertEqual(e1, e2, "unknown user and wrong password must get the same answer")

        st, _, doc = self.api("GET", "/api/v1/sessions/current", token=token)
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["user"]["id"], self.bob["id"])
        self.assertEqual(doc["user"]["email"], self.bob["email"])

        st, _, _ = self.api("DELETE", "/api/v1/sessions/current", token=token)
        self.assertEqual(st, 204)
        self.assert_json_error(self.api("GET", "/api/v1/sessions/current", token=token), 401)
        self.assert_json_error(self.api("DELETE", "/api/v1/sessions/current", token=token), 401)
        self.assert_json_error(self.api("POST", "/api/v1/pages",
                                        {"title": "t", "slug": unique_slug(), "body": "b"},
                                        token=token), 401)
        # Garbage and never-issued tokens.
        for bad in ("garbage", fake_token(), "", SQL_1):
            with self.subTest(token=bad):
                self.assert_json_error(self.api("GET", "/api/v1/sessions/current", token=bad), 401)
        self.assert_json_error(self.api("GET", "/api/v1/sessions/current"), 401)

    def test_expired_session_is_refused(self):
        token = harness.api_login(self.web, self.bob["email"], PASSWORD)
        st, _, _ = self.api("GET", "/api/v1/sessions/current", token=token)
        self.assertEqual(st, 200)
        self.db().execute("UPDATE sessions SET expires_at_ms = 1 WHERE session_hash = ?",
                          (hashlib.sha256(token.encode()).hexdigest(),))
        self.assert_json_error(self.api("GET", "/api/v1/sessions/current", token=token), 401)

    def test_html_login_cookie_and_logout(self):
        client = self.html_client()
        st, headers, body = client.submit("/login", "/login",
                                          {"email": self.bob["email"], "password": PASSWORD})
        self.assertEqual(st, 303, body[:500])
        self.assertEqual(headers.get("Location"), "/")
        session = [c for c in client.last_set_cookies if c.startswith("inkwell_session=")]
        self.assertEqual(len(session), 1, client.last_set_cookies)
        attrs = [a.strip().lower() for a in session[0].split(";")[1:]]
        self.assertIn("httponly", attrs, session[0])
        self.assertIn("samesite=lax", attrs, session[0])
        self.assertIn("path=/", attrs, session[0])
        self.assertNotIn("secure", attrs, "Secure on plain http would lose the cookie")
        old_cookie = client.cookies["inkwell_session"]

        st, headers, body = client.get("/")
        self.assertEqual(st, 200)
        self.assertIn(b"Bob Reader", body)
        self.assertIn("no-store", headers.get("Cache-Control", ""))
        self.assertIsNone(headers.get("X-Inkwell-Cache"), "a logged-in page must not be cached")
        self.assertEqual(client.get("/login")[0], 303)  # already logged in

        # Logout without the CSRF field: refused, still logged in.
        self.assert_site_page(client.post("/logout", {}), 403)
        self.assertEqual(client.get("/pages/new")[0], 200)

        st, headers, body = client.submit("/", "/logout", {})
        self.assertEqual(st, 303, body[:500])
        cleared = [c for c in client.last_set_cookies if c.startswith("inkwell_session=")]
        self.assertEqual(len(cleared), 1, client.last_set_cookies)
        self.assertIn("max-age=0", cleared[0].lower().replace(" ", ""))
        self.assertNotIn("inkwell_session", client.cookies)

        # The old cookie no longer logs in.
        resp = harness.http_get(self.url("/pages/new"),
                                headers={"Cookie": f"inkwell_session={old_cookie}"})
        self.assert_site_page(resp, 401)
        st, _, body = harness.http_get(self.url("/"), headers={"Cookie": f"inkwell_session={old_cookie}"})
        self.assertEqual(st, 200)
        self.assertNotIn(b"Bob Reader", body)
        # Nor does garbage.
        resp = harness.http_get(self.url("/pages/new"), headers={"Cookie": "inkwell_session=garbage"})
        self.assert_site_page(resp, 401)

    # -- rate limits -------------------------------------------------------------

    def test_rate_limits_per_address(self):
        limited = self.add_service(harness.web_service(
            self.tmp, self.node.url, name="web-limited",
            extra_env={"INKWELL_RATE_LIMIT_PER_MINUTE": "3"}))
        base = limited.base_url

        def check_429(resp, code="rate_limited"):
            self.assert_json_error(resp, 429, code)
            retry = resp[1].get("Retry-After")
            self.assertIsNotNone(retry, "429 without Retry-After")
            self.assertTrue(retry.isdigit() and 1 <= int(retry) <= 60, retry)

        login = {"email": unique_address("limit"), "password": "wrong password"}
        for i in range(3):
            st, _, doc = harness.api_json("POST", base + "/api/v1/sessions", login)
            self.assertEqual(st, 401, f"attempt {i + 1}: {doc}")
        check_429(harness.api_json("POST", base + "/api/v1/sessions", login))
        # The HTML form shares the address's login budget.
        client = harness.HtmlClient(base)
        st, headers, body = client.submit("/login", "/login", login)
        self.assertEqual(st, 429, body[:500])
        self.assertTrue(headers.get("Retry-After"))

        for i in range(3):
            st, _, doc = harness.api_json("POST", base + "/api/v1/users",
                                          {"name": "N", "email": unique_address("lim"),
                                           "password": "short"})
            self.assertEqual(st, 400, f"attempt {i + 1}: {doc}")
        refused = unique_address("refused")
        check_429(harness.api_json("POST", base + "/api/v1/users",
                                   {"name": "N", "email": refused, "password": PASSWORD}))

        for i in range(3):
            st, _, doc = harness.api_json("POST", base + "/api/v1/confirmations",
                                          {"email": unique_address("lim")})
            self.assertEqual(st, 202, f"attempt {i + 1}: {doc}")
        check_429(harness.api_json("POST", base + "/api/v1/confirmations",
                                   {"email": unique_address("lim")}))
        time.sleep(SETTLE)
        self.assertEqual(self.smtp.messages_to(refused), [], "a refused registration sent mail")

    # -- content through the API -------------------------------------------------

    def test_page_crud_and_events(self):
        slug = unique_slug("crud")
        page = self.new_page(title="First title", slug=slug, body="# Hello\n\nBody *one*.")
        self.assertEqual((page["title"], page["slug"], page["body"]),
                         ("First title", slug, "# Hello\n\nBody *one*."))
        self.assertIn("<em>one</em>", page["html"])
        self.assertEqual(page["author"]["id"], self.alice["id"])
        for field in ("created_at", "updated_at"):
            self.assertRegex(page[field], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        page_id = self.tap.wait_for("page.updated", 1, EVENT_BOUND,
                                    where=lambda d: d.get("slug") == slug)[0][1]["id"]
        mine = lambda d: d.get("id") == page_id  # noqa: E731

        st, _, got = self.get_page(slug)
        self.assertEqual((st, got["title"]), (200, "First title"))
        st, _, listing = self.api("GET", "/api/v1/pages?per_page=100")
        self.assertEqual(st, 200)
        self.assertIn(slug, [p["slug"] for p in listing["pages"]])

        # Another user may neither edit nor delete; anonymous neither.
        err = self.assert_json_error(self.api("PUT", "/api/v1/pages/" + slug, {"title": "Bob's"},
                                              self.bob_token), 403, "forbidden")
        self.assertIn("author", err["message"])
        self.assert_json_error(self.api("DELETE", "/api/v1/pages/" + slug, token=self.bob_token),
                               403, "forbidden")
        self.assert_json_error(self.api("PUT", "/api/v1/pages/" + slug, {"title": "Anon"}), 401)
        self.assert_json_error(self.api("DELETE", "/api/v1/pages/" + slug), 401)
        self.assertEqual(self.get_page(slug)[2]["title"], "First title")

        st, _, updated = self.api("PUT", "/api/v1/pages/" + slug, {"title": "Second title"},
                                  self.alice_token)
        self.assertEqual(st, 200, updated)
        self.assertEqual((updated["title"], updated["body"]), ("Second title", "# Hello\n\nBody *one*."))
        self.tap.wait_for("page.updated", 2, EVENT_BOUND, where=mine)

        new_slug = unique_slug("renamed")
        st, _, renamed = self.api("PUT", "/api/v1/pages/" + slug, {"slug": new_slug}, self.alice_token)
        self.assertEqual((st, renamed.get("slug")), (200, new_slug), renamed)
        self.assert_json_error(self.get_page(slug), 404, "not_found")
        self.assertEqual(self.get_page(new_slug)[2]["title"], "Second title")
        events = self.tap.wait_for("page.updated", 3, EVENT_BOUND, where=mine)
        self.assertEqual(events[-1][1].get("previous_slug"), slug)

        # A slug that another page has: 409, nothing changes.
        other = self.new_page()
        self.assert_json_error(self.api("PUT", "/api/v1/pages/" + new_slug, {"slug": other["slug"]},
                                        self.alice_token), 409, "conflict")
        self.assert_json_error(self.api("POST", "/api/v1/pages",
                                        {"title": "Dup", "slug": other["slug"], "body": "b"},
                                        self.alice_token), 409, "conflict")
        self.assertEqual(self.get_page(other["slug"])[2]["title"], other["title"])

        st, _, _ = self.api("DELETE", "/api/v1/pages/" + new_slug, token=self.alice_token)
        self.assertEqual(st, 204)
        self.assert_json_error(self.get_page(new_slug), 404, "not_found")
        self.assert_json_error(self.api("DELETE", "/api/v1/pages/" + new_slug,
                                        token=self.alice_token), 404)
        deleted = self.assert_exactly_once("page.deleted", mine, "page delete")
        self.assertEqual(deleted["slug"], new_slug)
        self.assertEqual(len(self.tap.events("page.updated", where=mine)), 3,
                         "one page.updated per create/update, no more")

    def test_posts_drafts_and_publishing(self):
        post = self.new_post(title="Published post", published=True)
        self.assertTrue(post["published"])
        self.assertIn("<em>world</em>", post["html"])
        published = self.assert_exactly_once("post.published", lambda d: d.get("id") == post["id"],
                                             "published on create")
        self.assertEqual(published["author_id"], self.alice["id"])

        draft = self.new_post(title="Secret draft", published=False)
        self.assertFalse(draft["published"])
        path = f"/api/v1/posts/{draft['id']}"
        self.assert_json_error(self.api("GET", path), 404, "not_found")
        self.assert_json_error(self.api("GET", path, token=self.bob_token), 404, "not_found")
        st, _, got = self.api("GET", path, token=self.alice_token)
        self.assertEqual((st, got["title"]), (200, "Secret draft"))
        anon_ids = [p["id"] for p in self.api("GET", "/api/v1/posts?per_page=100")[2]["posts"]]
        self.assertNotIn(draft["id"], anon_ids)
        self.assertIn(post["id"], anon_ids)
        self.assertNotIn(draft["id"], [p["id"] for p in self.api(
            "GET", "/api/v1/posts?per_page=100", token=self.bob_token)[2]["posts"]])
        self.assert_site_page(harness.http_get(self.url(f"/posts/{draft['id']}")), 404)
        # Bob cannot change it: to him it does not exist.
        self.assert_json_error(self.api("PUT", path, {"title": "Bob"}, self.bob_token), 404)
        self.assert_json_error(self.api("DELETE", path, token=self.bob_token), 404)

        # Publishing the draft emits post.published once; a later edit does not.
        st, _, doc = self.api("PUT", path, {"published": True}, self.alice_token)
        self.assertEqual((st, doc.get("published")), (200, True), doc)
        self.assertEqual(self.api("GET", path)[0], 200)
        st, _, doc = self.api("PUT", path, {"title": "Now public"}, self.alice_token)
        self.assertEqual((st, doc.get("title"), doc.get("published")), (200, "Now public", True))
        self.assert_exactly_once("post.published", lambda d: d.get("id") == draft["id"],
                                 "publish a draft, then edit it")

        # Another user may not edit or delete a published post.
        ppath = f"/api/v1/posts/{post['id']}"
        self.assert_json_error(self.api("PUT", ppath, {"title": "Bob's"}, self.bob_token), 403,
                               "forbidden")
        self.assert_json_error(self.api("DELETE", ppath, token=self.bob_token), 403, "forbidden")
        self.assert_json_error(self.api("PUT", ppath, {"title": "Anon"}), 401)
        self.assertEqual(self.api("GET", ppath)[2]["title"], "Published post")

        st, _, _ = self.api("DELETE", ppath, token=self.alice_token)
        self.assertEqual(st, 204)
        self.assert_json_error(self.api("GET", ppath), 404)
        self.assert_json_error(self.api("GET", "/api/v1/posts/999999999"), 404, "not_found")

    def test_comments(self):
        post = self.new_post(title="Discuss me")
        path = f"/api/v1/posts/{post['id']}/comments"
        st, _, comment = self.api("POST", path, {"body": "First!"}, self.bob_token)
        self.assertEqual(st, 201, comment)
        self.assertEqual((comment["body"], comment["post_id"], comment["author"]["id"]),
                         ("First!", post["id"], self.bob["id"]))
        event = self.assert_exactly_once("comment.created", lambda d: d.get("id") == comment["id"],
                                         "comment")
        self.assertEqual((event["post_id"], event["author_id"]), (post["id"], self.bob["id"]))

        self.assert_json_error(self.api("POST", path, {"body": "anonymous"}), 401, "unauthorized")
        self.assert_json_error(self.api("POST", path, {"body": "  "}, self.bob_token), 400,
                               "invalid_argument")
        self.assert_json_error(self.api("POST", path, {"body": "x" * 5001}, self.bob_token), 400,
                               "invalid_argument")
        st, _, listing = self.api("GET", path)
        self.assertEqual(st, 200, listing)
        self.assertEqual(([c["body"] for c in listing["comments"]], listing["total"]), (["First!"], 1))
        self.assertEqual(self.api("GET", f"/api/v1/posts/{post['id']}")[2]["comment_count"], 1)

        # Not on a draft: its author is told no, anyone else finds nothing.
        draft = self.new_post(title="Draft, closed", published=False)
        dpath = f"/api/v1/posts/{draft['id']}/comments"
        self.assert_json_error(self.api("POST", dpath, {"body": "me"}, self.alice_token), 409)
        self.assert_json_error(self.api("POST", dpath, {"body": "me"}, self.bob_token), 404)
        self.assert_json_error(self.api("GET", dpath), 404)
        self.assertEqual(self.api("GET", dpath, token=self.alice_token)[2]["total"], 0)
        self.assert_json_error(self.api("POST", "/api/v1/posts/999999999/comments", {"body": "x"},
                                        self.bob_token), 404)

    def test_pagination(self):
        for i in range(5):
            self.new_post(title=f"Paged {i}")
        st, _, first = self.api("GET", "/api/v1/posts?page=1&per_page=2")
        self.assertEqual(st, 200, first)
        self.assertEqual((first["page"], first["per_page"], len(first["posts"])), (1, 2, 2))
        self.assertGreaterEqual(first["total"], 5)
        second = self.api("GET", "/api/v1/posts?page=2&per_page=2")[2]
        self.assertEqual(len(second["posts"]), 2)
        self.assertFalse({p["id"] for p in first["posts"]} & {p["id"] for p in second["posts"]})
        beyond = self.api("GET", "/api/v1/posts?page=100000&per_page=100")[2]
        self.assertEqual((beyond["posts"], beyond["total"]), ([], first["total"]))
        self.assertEqual(self.api("GET", "/api/v1/posts")[2]["per_page"], 20)
        pages = self.api("GET", "/api/v1/pages?page=1&per_page=1")[2]
        self.assertEqual((pages["page"], pages["per_page"]), (1, 1))

        bad = ["page=0", "page=-1", "page=abc", "page=1.5", "page=01", "page=", "page=100001",
               "per_page=0", "per_page=101", "per_page=x", "page=%00", "page=99999999999999999999"]
        post_id = first["posts"][0]["id"]
        for route in ("/api/v1/posts", "/api/v1/pages", f"/api/v1/posts/{post_id}/comments"):
            for query in bad:
                with self.subTest(route=route, query=query):
                    self.assert_json_error(self.api("GET", f"{route}?{query}"), 400, "invalid_argument")
        for query in ("page=0", "page=abc", "page=100001"):
            with self.subTest(route="/", query=query):
                self.assert_site_page(harness.http_get(self.url("/?" + query)), 400)
                self.assert_site_page(harness.http_get(self.url("/pages?" + query)), 400)

    # -- bad input: a clear error and no damage ----------------------------------

    def test_oversized_bodies(self):
        page = self.new_page(title="Keep me")
        slug = page["slug"]
        big = "x" * (70 * 1024)
        self.assert_json_error(self.api("POST", "/api/v1/pages",
                                        {"title": "Big", "slug": unique_slug(), "body": big},
                                        self.alice_token), 413, "payload_too_large")
        self.assert_json_error(self.api("PUT", "/api/v1/pages/" + slug, {"body": big},
                                        self.alice_token), 413, "payload_too_large")
        self.assert_json_error(self.api("POST", "/api/v1/posts", {"title": "Big", "body": big},
                                        self.alice_token), 413)
        self.assert_json_error(self.api("POST", "/api/v1/sessions",
                                        {"email": "a@b.org", "password": big}), 413)
        # Under the request limit but over the body limit: 400, naming the field.
        err = self.assert_json_error(self.api("PUT", "/api/v1/pages/" + slug, {"body": "y" * 60001},
                                              self.alice_token), 400, "invalid_argument")
        self.assertIn("body", err["message"])
        err = self.assert_json_error(self.api("PUT", "/api/v1/pages/" + slug, {"title": "t" * 201},
                                              self.alice_token), 400, "invalid_argument")
        self.assertIn("title", err["message"])
        client = self.html_client(self.alice)
        resp = client.submit("/pages/new", "/pages", {"title": "Big", "slug": unique_slug(), "body": big})
        self.assert_site_page(resp, 413)
        st, _, got = self.get_page(slug)
        self.assertEqual((st, got["title"], got["body"], got["updated_at"]),
                         (200, "Keep me", page["body"], page["updated_at"]))

    def test_bad_slugs(self):
        page = self.new_page(title="Slug keeper")
        bad = ["Bad Slug", "../x", "a--b", "a" * 101, "-a", "a-", "", "UPPER", "a/b", "a_b",
               "é", SQL_1, "<b>x</b>"]
        for slug in bad:
            with self.subTest(slug=slug, op="create"):
                err = self.assert_json_error(self.api("POST", "/api/v1/pages",
                                                      {"title": "T", "slug": slug, "body": "b"},
                                                      self.alice_token), 400, "invalid_argument")
                self.assertIn("slug", err["message"])
            with self.subTest(slug=slug, op="rename"):
                self.assert_json_error(self.api("PUT", "/api/v1/pages/" + page["slug"], {"slug": slug},
                                                self.alice_token), 400, "invalid_argument")
        self.assertEqual(self.get_page(page["slug"])[2]["updated_at"], page["updated_at"])
        ok = "a" * 100
        self.assertEqual(self.api("POST", "/api/v1/pages", {"title": "T", "slug": ok, "body": "b"},
                                  self.alice_token)[0], 201)
        for path in ("/api/v1/pages/Bad%20Slug", "/api/v1/pages/..%2Fx", "/api/v1/pages/a--b"):
            with self.subTest(path=path):
                self.assert_json_error(self.api("GET", path), 404, "not_found")
        self.assert_site_page(harness.http_get(self.url("/page/Bad%20Slug")), 404)
        self.assert_site_page(harness.http_get(self.url("/page/../etc/passwd")), 404)
        client = self.html_client(self.alice)
        st, _, body = client.submit("/pages/new", "/pages", {"title": "T", "slug": "Bad Slug", "body": "b"})
        self.assertEqual(st, 400, body[:500])
        self.assertIn(b"slug must be", body)
        self.assertIn(b'value="Bad Slug"', body, "the form keeps what was typed")

    def test_html_and_script_are_escaped_everywhere(self):
        name = "<script>alert('name')</script> Mallory"
        mallory = harness.register_and_confirm(self.web, self.smtp, name=name, timeout=MAIL_BOUND)
        token = harness.api_login(self.web, mallory["email"], PASSWORD)
        body = f"{SCRIPT}\n\n<b>bold</b> <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))"
        page = self.new_page(token, title=SCRIPT + " title", body=body)
        post = self.new_post(token, title=SCRIPT + " post", body=body)
        st, _, comment = self.api("POST", f"/api/v1/posts/{post['id']}/comments",
                                  {"body": SCRIPT + " comment"}, self.bob_token)
        self.assertEqual(st, 201, comment)

        # Stored verbatim.
        got_page = self.get_page(page["slug"])[2]
        got_post = self.api("GET", f"/api/v1/posts/{post['id']}")[2]
        self.assertEqual((got_page["title"], got_page["body"]), (SCRIPT + " title", body))
        self.assertEqual((got_post["title"], got_post["body"]), (SCRIPT + " post", body))
        self.assertEqual(got_post["author"]["name"], name)
        self.assertEqual(self.api("GET", f"/api/v1/posts/{post['id']}/comments")[2]["comments"][0]["body"],
                         SCRIPT + " comment")
        # Markdown passes no raw HTML or javascript: links.
        for html in (got_page["html"], got_post["html"]):
            self.assertNotIn("<script", html)
            self.assertNotIn("<b>", html)
            self.assertNotIn("<img", html)
            self.assertNotIn("javascript:", html)

        # Shown escaped on every HTML page, anonymous and logged in.
        mclient = self.html_client(mallory)
        views = [harness.http_get(self.url("/page/" + page["slug"])),
                 harness.http_get(self.url(f"/posts/{post['id']}")),
                 harness.http_get(self.url("/?per_page=10")),
                 harness.http_get(self.url("/")),
                 harness.http_get(self.url("/pages")),
                 mclient.get("/page/" + page["slug"]),
                 mclient.get(f"/posts/{post['id']}"),
                 mclient.get("/"),
                 mclient.get(f"/posts/{post['id']}/edit"),
                 mclient.get(f"/page/{page['slug']}/edit")]
        for i, (st, _, html) in enumerate(views):
            if st == 400:  # "/?per_page=" is not a site parameter
                continue
            with self.subTest(view=i):
                self.assertEqual(st, 200, html[:300])
                self.assertNotIn(b"<script", html.lower())
                self.assertNotIn(b"<img", html.lower())
                self.assertNotIn(b"<b>bold", html)
        joined = b"".join(v[2] for v in views)
        self.assertIn(b"&lt;script&gt;", joined)
        self.assertIn(b"Mallory", views[1][2])  # the author's name, escaped
        self.assertIn(b"comment", views[1][2])

        # Re-shown form input is escaped too.
        st, _, html = mclient.submit("/pages/new", "/pages",
                                     {"title": '"><script>alert(1)</script>', "slug": "Bad Slug",
                                      "body": "</textarea><script>alert(2)</script>"})
        self.assertEqual(st, 400)
        self.assertNotIn(b"<script", html.lower())

    def test_sql_metacharacters_are_plain_text(self):
        page = self.new_page(title=SQL_1, body=SQL_2)
        post = self.new_post(title=SQL_2, body=SQL_1)
        st, _, comment = self.api("POST", f"/api/v1/posts/{post['id']}/comments", {"body": SQL_1},
                                  self.bob_token)
        self.assertEqual(st, 201, comment)
        self.assertEqual(self.get_page(page["slug"])[2]["title"], SQL_1)
        self.assertEqual(self.get_page(page["slug"])[2]["body"], SQL_2)
        got = self.api("GET", f"/api/v1/posts/{post['id']}")[2]
        self.assertEqual((got["title"], got["body"]), (SQL_2, SQL_1))
        self.assertEqual(self.api("GET", f"/api/v1/posts/{post['id']}/comments")[2]["comments"][0]["body"],
                         SQL_1)
        # In credentials and paths: a plain wrong answer.
        for email, password in ((SQL_1, SQL_2), ("a@b.org' OR '1'='1", SQL_2),
                                (self.alice["email"], SQL_2), (self.alice["email"] + "' --", "x")):
            with self.subTest(email=email):
                st, _, doc = self.api("POST", "/api/v1/sessions", {"email": email, "password": password})
                self.assertIn(st, (400, 401), doc)
        self.assert_json_error(self.api("GET", "/api/v1/pages/%27%3B%20DROP%20TABLE%20users%3B%20--"),
                               404)
        self.assert_json_error(self.api("GET", "/api/v1/posts/1%20OR%201=1"), 404)
        # Nothing was dropped: the users and their sessions still work.
        st, _, doc = self.api("GET", "/api/v1/sessions/current", token=self.alice_token)
        self.assertEqual((st, doc["user"]["id"]), (200, self.alice["id"]))
        self.assertIsInstance(harness.api_login(self.web, self.bob["email"], PASSWORD), str)

    def test_wrong_json_types(self):
        page = self.new_page(title="Typed")
        post = self.new_post(title="Typed post")
        before = self.api("GET", "/api/v1/pages?per_page=1")[2]["total"]
        cases = [
            ("POST", "/api/v1/pages", {"title": 1, "slug": unique_slug(), "body": "b"}),
            ("POST", "/api/v1/pages", {"title": "t", "slug": ["x"], "body": "b"}),
            ("POST", "/api/v1/pages", {"title": "t", "slug": unique_slug(), "body": {"a": 1}}),
            ("POST", "/api/v1/pages", ["title", "slug"]),
            ("POST", "/api/v1/pages", "just a string"),
            ("PUT", "/api/v1/pages/" + page["slug"], {"title": True}),
            ("PUT", "/api/v1/pages/" + page["slug"], {"body": 3.5}),
            ("POST", "/api/v1/posts", {"title": "t", "body": "b", "published": "yes"}),
            ("POST", "/api/v1/posts", {"title": "t", "body": "b", "published": 1}),
            ("PUT", f"/api/v1/posts/{post['id']}", {"published": "false"}),
            ("PUT", f"/api/v1/posts/{post['id']}", {"title": ["t"]}),
            ("POST", f"/api/v1/posts/{post['id']}/comments", {"body": 5}),
            ("POST", "/api/v1/sessions", {"email": 1, "password": "x"}),
            ("POST", "/api/v1/users", {"name": "n", "email": ["a@b.org"], "password": PASSWORD}),
            ("POST", "/api/v1/confirmations", {"email": 42}),
        ]
        for method, path, obj in cases:
            with self.subTest(method=method, path=path, body=obj):
                self.assert_json_error(self.api(method, path, obj, self.alice_token), 400,
                                       "invalid_argument")
        for raw in (b'{"title": ', b"\xff\xfe", b"", b"null"):
            with self.subTest(raw=raw):
                self.assert_json_error(self.raw("POST", "/api/v1/pages", raw, "application/json",
                                                self.alice_token), 400)
        self.assertEqual(self.api("GET", "/api/v1/pages?per_page=1")[2]["total"], before)
        got = self.get_page(page["slug"])[2]
        self.assertEqual((got["title"], got["updated_at"]), ("Typed", page["updated_at"]))
        got = self.api("GET", f"/api/v1/posts/{post['id']}")[2]
        self.assertEqual((got["title"], got["published"], got["comment_count"]), ("Typed post", True, 0))

    def test_wrong_content_types(self):
        page = self.new_page(title="Typed content")
        body = json.dumps({"title": "t", "slug": unique_slug(), "body": "b"})
        for ctype in ("text/plain", "application/x-www-form-urlencoded", None, "application/jsonx"):
            with self.subTest(ctype=ctype):
                self.assert_json_error(self.raw("POST", "/api/v1/pages", body, ctype, self.alice_token),
                                       415, "unsupported_media_type")
                self.assert_json_error(self.raw("PUT", "/api/v1/pages/" + page["slug"],
                                                json.dumps({"title": "changed"}), ctype,
                                                self.alice_token), 415)
        self.assertEqual(self.raw("POST", "/api/v1/pages", body, "application/json; charset=utf-8",
                                  self.alice_token)[0], 201)
        self.assert_json_error(self.raw("POST", "/api/v1/sessions", "email=a&password=b",
                                        "application/x-www-form-urlencoded"), 415)
        client = self.html_client(self.alice)
        data = client.form_fields("/pages/new")
        data.update({"title": "t", "slug": unique_slug(), "body": "b"})
        resp = client.request("POST", "/pages", json.dumps(data).encode(),
                              {"Content-Type": "application/json"})
        self.assert_site_page(resp, 415)
        self.assertEqual(self.get_page(page["slug"])[2]["title"], "Typed content")

    def test_unknown_api_routes_and_wrong_methods(self):
        for path in ("/api/v1/nope", "/api/v2/pages", "/api/v1", "/api/v1/pages/a/b",
                     "/api/v1/posts/abc", "/api/v1/posts/1/nope", "/api/v1/sessions/other",
                     "/api/v1/users/1"):
            with self.subTest(path=path):
                self.assert_json_error(self.api("GET", path), 404, "not_found")
        cases = [("PATCH", "/api/v1/pages", "GET, POST"), ("DELETE", "/api/v1/posts", "GET, POST"),
                 ("POST", "/api/v1/pages/some-page", "GET, PUT, DELETE"),
                 ("PATCH", "/api/v1/posts/1", "GET, PUT, DELETE"),
                 ("PUT", "/api/v1/posts/1/comments", "GET, POST"),
                 ("GET", "/api/v1/users", "POST"), ("GET", "/api/v1/sessions", "POST"),
                 ("POST", "/api/v1/sessions/current", "GET, DELETE"),
                 ("GET", "/api/v1/confirmations", "POST"), ("POST", "/healthz", "GET")]
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                resp = self.api(method, path, token=self.alice_token)
                self.assert_json_error(resp, 405, "method_not_allowed")
                self.assertEqual(resp[1].get("Allow"), allow)
        for method, path, allow in (("GET", "/logout", "POST"), ("PUT", "/login", "GET, POST"),
                                    ("POST", "/page/some-page", "GET"), ("DELETE", "/", "GET")):
            with self.subTest(method=method, path=path):
                resp = harness._request(method, self.url(path))
                self.assert_site_page(resp, 405)
                self.assertEqual(resp[1].get("Allow"), allow)

    def test_forged_csrf_on_every_form(self):
        page = self.new_page(title="Guarded page")
        post = self.new_post(title="Guarded post")
        alice = self.html_client(self.alice)
        alice_session = alice.cookies["inkwell_session"]
        other_token = self.html_client().form_fields("/register")["csrf_token"]
        address = unique_address("forged")
        forms = [
            ("/register", {"user_name": "Forged", "user_email": address, "user_password": PASSWORD}),
            ("/login", {"email": self.alice["email"], "password": PASSWORD}),
            ("/confirm/resend", {"email": address}),
            ("/logout", {}),
            ("/pages", {"title": "Forged", "slug": unique_slug("forged"), "body": "b"}),
            (f"/page/{page['slug']}/edit", {"title": "Forged", "slug": page["slug"], "body": "b"}),
            (f"/page/{page['slug']}/delete", {}),
            ("/posts", {"title": "Forged", "body": "b", "published": "on"}),
            (f"/posts/{post['id']}/edit", {"title": "Forged", "body": "b", "published": "on"}),
            (f"/posts/{post['id']}/comments", {"body": "Forged"}),
            (f"/posts/{post['id']}/delete", {}),
        ]
        variants = {
            "missing": lambda f: (dict(f), alice.cookies),
            "wrong": lambda f: (dict(f, csrf_token=fake_token()), alice.cookies),
            "another visitor's": lambda f: (dict(f, csrf_token=other_token), alice.cookies),
            "no csrf cookie": lambda f: (dict(f, csrf_token=alice.csrf_token),
                                         {"inkwell_session": alice_session}),
            "empty": lambda f: (dict(f, csrf_token=""), alice.cookies),
        }
        posts_before = self.api("GET", "/api/v1/posts?per_page=1", token=self.alice_token)[2]["total"]
        pages_before = self.api("GET", "/api/v1/pages?per_page=1")[2]["total"]
        for path, fields in forms:
            for label, make in variants.items():
                with self.subTest(form=path, csrf=label):
                    data, cookies = make(fields)
                    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
                    resp = harness.http_post_form(self.url(path), data, headers={"Cookie": cookie})
                    body = self.assert_site_page(resp, 403)
                    self.assertIn(b"Form expired", body)
                    self.assertNotIn("inkwell_session=", " ".join(resp[1].get_all("Set-Cookie") or []))
        # No damage: everything as before, the session alive, no mail, no account.
        self.assertEqual(self.get_page(page["slug"])[2]["title"], "Guarded page")
        got = self.api("GET", f"/api/v1/posts/{post['id']}")[2]
        self.assertEqual((got["title"], got["comment_count"]), ("Guarded post", 0))
        self.assertEqual(self.api("GET", "/api/v1/posts?per_page=1", token=self.alice_token)[2]["total"],
                         posts_before)
        self.assertEqual(self.api("GET", "/api/v1/pages?per_page=1")[2]["total"], pages_before)
        self.assertEqual(alice.get("/pages/new")[0], 200, "a forged logout ended the session")
        self.assertEqual(self.db().scalar("SELECT COUNT(*) FROM users WHERE email = ?",
                                          (address,)), 0)
        time.sleep(SETTLE)
        self.assertEqual(self.smtp.messages_to(address), [])

    # -- the HTML site -----------------------------------------------------------

    def test_html_page_and_post_flows(self):
        alice = self.html_client(self.alice)
        slug = unique_slug("html")
        st, headers, body = alice.submit("/pages/new", "/pages",
                                         {"title": "Made in HTML", "slug": slug,
                                          "body": "Hello *HTML* page.\n\n- one\n- two"})
        self.assertEqual(st, 303, body[:500])
        self.assertEqual(headers.get("Location"), "/page/" + slug)
        html = self.assert_site_page(harness.http_get(self.url("/page/" + slug)), 200)
        self.assertIn(b"Made in HTML", html)
        self.assertIn(b"<em>HTML</em>", html)
        self.assertIn(b"<li>one</li>", html)
        self.assertIn(slug.encode(), self.assert_site_page(harness.http_get(self.url("/pages")), 200))

        st, headers, body = alice.submit(f"/page/{slug}/edit", f"/page/{slug}/edit",
                                         {"title": "Edited in HTML", "slug": slug, "body": "New body"})
        self.assertEqual((st, headers.get("Location")), (303, "/page/" + slug), body[:500])
        self.assertIn(b"Edited in HTML", harness.http_get(self.url("/page/" + slug))[2])

        title = f"HTML post {uuid.uuid4().hex[:6]}"
        st, headers, body = alice.submit("/posts/new", "/posts",
                                         {"title": title, "body": "Post **body**", "published": "on"})
        self.assertEqual(st, 303, body[:500])
        match = re.fullmatch(r"/posts/(\d+)", headers.get("Location", ""))
        self.assertTrue(match, headers.get("Location"))
        post_id = int(match.group(1))
        html = self.assert_site_page(harness.http_get(self.url(f"/posts/{post_id}")), 200)
        self.assertIn(title.encode(), html)
        self.assertIn(b"<strong>body</strong>", html)
        self.assertIn(title.encode(), self.assert_site_page(harness.http_get(self.url("/")), 200))

        bob = self.html_client(self.bob)
        st, headers, body = bob.submit(f"/posts/{post_id}", f"/posts/{post_id}/comments",
                                       {"body": "Nice one, <Alice>!"})
        self.assertEqual(st, 303, body[:500])
        self.assertTrue(headers.get("Location", "").startswith(f"/posts/{post_id}#comment-"))
        html = harness.http_get(self.url(f"/posts/{post_id}"))[2]
        self.assertIn(b"Nice one, &lt;Alice&gt;!", html)

        # Bob may not edit Alice's page: a 403 in the site's layout.
        body = self.assert_site_page(bob.get(f"/page/{slug}/edit"), 403)
        self.assertIn(b"Only the author", body)
        self.assert_site_page(bob.submit(f"/posts/{post_id}", f"/posts/{post_id}/delete", {}), 403)
        self.assertEqual(self.api("GET", f"/api/v1/posts/{post_id}")[0], 200)

        # Delete through the site.
        st, headers, _ = alice.submit(f"/page/{slug}", f"/page/{slug}/delete", {})
        self.assertEqual((st, headers.get("Location")), (303, "/pages?notice=deleted"))
        self.assert_site_page(harness.http_get(self.url("/page/" + slug)), 404)
        st, headers, _ = alice.submit(f"/posts/{post_id}", f"/posts/{post_id}/delete", {})
        self.assertEqual((st, headers.get("Location")), (303, "/?notice=deleted"))
        self.assert_site_page(harness.http_get(self.url(f"/posts/{post_id}")), 404)

        # Not found and login-required pages look like the rest of the site.
        for path in ("/nope", "/page/no-such-page", "/posts/999999999", "/posts/abc", "/page/x/y"):
            with self.subTest(path=path):
                self.assert_site_page(harness.http_get(self.url(path)), 404)
        self.assert_site_page(harness.http_get(self.url("/pages/new")), 401)

    # -- the page cache ----------------------------------------------------------

    def test_page_cache_hit_and_invalidation(self):
        # Invalidations are broadcast on `cache` through the outbox: watch them, so a GET
        # is not raced by the instance's own (late) eviction of a page it just cached.
        cache_tap = harness.EventTap(self.node, "cache", keys=("",)).start()
        self.addCleanup(cache_tap.stop)

        def settled(slug, count):
            cache_tap.wait_for(None, count, EVENT_BOUND,
                               where=lambda d: "page:" + slug in d.get("keys", []))
            time.sleep(0.3)  # the instance's own queue got it at the same time

        page = self.new_page(title="Cached v1")
        path = self.url("/page/" + page["slug"])
        # The listener must be consuming before the cache is used at all.
        harness.wait_until(lambda: harness.http_get(path)[1].get("X-Inkwell-Cache") == "hit", 15,
                           message="a page cache hit (cache listener connected)")
        fresh = self.new_page(title="Cached fresh")
        fresh_path = self.url("/page/" + fresh["slug"])
        settled(fresh["slug"], 1)
        st1, h1, b1 = harness.http_get(fresh_path)
        st2, h2, b2 = harness.http_get(fresh_path)
        self.assertEqual((st1, h1.get("X-Inkwell-Cache")), (200, "miss"))
        self.assertEqual((st2, h2.get("X-Inkwell-Cache")), (200, "hit"))
        self.assertEqual(b1, b2)
        self.assertIn(b"Cached fresh", b2)
        self.assertIsNone(h2.get("Set-Cookie"), "a shared cached page must not set cookies")

        st, _, doc = self.api("PUT", "/api/v1/pages/" + fresh["slug"], {"title": "Cached v2"},
                              self.alice_token)
        self.assertEqual(st, 200, doc)
        st, h, body = harness.http_get(fresh_path)  # at once, before the broadcast
        self.assertEqual(st, 200)
        self.assertIn(b"Cached v2", body)
        self.assertNotIn(b"Cached fresh", body)
        # That GET may already be cached again (if the broadcast came first) or not (if
        # it evicted the copy): either way the next GETs are the new version, soon a hit.
        settled(fresh["slug"], 2)
        for _ in range(2):
            st, h, body = harness.http_get(fresh_path)
            self.assertEqual(st, 200)
            self.assertIn(b"Cached v2", body)
        self.assertEqual(h.get("X-Inkwell-Cache"), "hit")

        # A logged-in visitor bypasses the shared cache.
        st, h, _ = self.html_client(self.bob).get("/page/" + fresh["slug"])
        self.assertEqual(st, 200)
        self.assertIsNone(h.get("X-Inkwell-Cache"))

        # Deleted: 404 at once, never a cached copy.
        self.assertEqual(self.api("DELETE", "/api/v1/pages/" + fresh["slug"],
                                  token=self.alice_token)[0], 204)
        self.assertEqual(harness.http_get(fresh_path)[0], 404)
        st, _, metrics = harness.http_get(self.url("/metrics"))
        self.assertRegex(metrics.decode(), r"inkwell_page_cache_hits_total(\{[^}]*\})? [1-9]")


if __name__ == "__main__":
    unittest.main()
