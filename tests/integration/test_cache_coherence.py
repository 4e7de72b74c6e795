"""Page-cache coherence across instances (issue 4): two inkwell-web instances on
ONE SQLite database, one mailer, one broker. An edit through one instance is
served by the other within COHERENCE_BOUND; a deletion likewise; while the
broker is down both serve from the database (no cache hits), and after it is
back the caches work and stay coherent again. Both instances run an outbox
relay on the same database, and each outbox row is still published once."""

import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

PASSWORD = "correct horse battery"
COHERENCE_BOUND = 1.0   # seconds from the HTTP answer on one instance to the other's new page
EVENT_BOUND = 10.0
SETTLE = 2.0
RECOVERY_BOUND = 60.0   # broker back -> both instances ready and caching again


def unique_slug(tag="c"):
    return f"{tag}-{uuid.uuid4().hex[:10]}"


class CacheCoherenceTest(harness.IntegrationCase):
    owns_broker = True  # stops and restarts RabbitMQ (test_3_broker_outage_...)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            db = cls.tmp / "shared.db"
            cls.mailer = cls.add_service(
                harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
            cls.web_a = cls.add_service(harness.web_service(cls.tmp, cls.node.url, name="web-a", db=db))
            cls.web_b = cls.add_service(harness.web_service(cls.tmp, cls.node.url, name="web-b", db=db))
            for svc in (cls.web_a, cls.web_b, cls.mailer):
                svc.wait_ready()
            cls.user = harness.register_and_confirm(cls.web_a, cls.smtp, name="Coherent Author",
                                                    password=PASSWORD)
            cls.token = harness.api_login(cls.web_b, cls.user["email"], PASSWORD)
        except BaseException:
            cls._teardown_infra()
            raise

    def setUp(self):
        self.node.start()  # idempotent; a failed test may have left it down
        for svc in (self.web_a, self.web_b):
            svc.wait_ready(RECOVERY_BOUND)

    # -- helpers ---------------------------------------------------------------

    def api(self, web, method, path, obj=None):
        return harness.api_json(method, web.base_url + path, obj, token=self.token)

    def get(self, web, slug):
        return harness.http_get(web.base_url + "/page/" + slug, timeout=5)

    def cache_tap(self):
        tap = harness.EventTap(self.node, "cache", keys=("",)).start()
        self.addCleanup(tap.stop)
        return tap

    def settled(self, tap, slug, count):
        """Wait until `count` invalidations naming the page were broadcast, and a moment
        for the instances (whose queues got them at the same time) to apply them."""
        tap.wait_for(None, count, EVENT_BOUND, where=lambda d: "page:" + slug in d.get("keys", []))
        time.sleep(0.3)

    def warm(self, slug, title):
        """GET the page twice on each instance: the second answer is a cache hit."""
        for web in (self.web_a, self.web_b):
            st1, h1, b1 = self.get(web, slug)
            st2, h2, b2 = self.get(web, slug)
            self.assertEqual((st1, st2), (200, 200), web.name)
            self.assertIn(title.encode(), b2, web.name)
            self.assertEqual(h2.get("X-Inkwell-Cache"), "hit",
                             f"{web.name}: second GET not a hit (first: {h1.get('X-Inkwell-Cache')})")

    def wait_for_hit(self, web, slug, timeout):
        harness.wait_until(lambda: self.get(web, slug)[1].get("X-Inkwell-Cache") == "hit", timeout,
                           interval=0.2, message=f"a cache hit on {web.name}")

    def time_until(self, predicate, bound, what):
        """Poll predicate every 10 ms for up to 3 x bound; return the seconds it took
        (measured from now) and fail if that exceeds bound."""
        t0 = time.monotonic()
        while True:
            if predicate():
                took = time.monotonic() - t0
                print(f"\n    {what}: {took * 1000:.0f} ms", file=sys.stderr, flush=True)
                self.assertLessEqual(took, bound, f"{what} took {took:.3f}s > {bound}s\n"
                                                  f"{self.dump_logs()}")
                return took
            if time.monotonic() - t0 > 3 * bound:
                self.fail(f"{what}: not within {3 * bound}s\n{self.dump_logs()}")
            time.sleep(0.01)

    def create_page(self, web, title):
        slug = unique_slug()
        st, _, doc = self.api(web, "POST", "/api/v1/pages", {"title": title, "slug": slug,
                                                              "body": "Shared *body*."})
        self.assertEqual(st, 201, doc)
        return slug

    def edit_on_a_seen_on_b(self, slug, title):
        st, _, doc = self.api(self.web_a, "PUT", "/api/v1/pages/" + slug, {"title": title})
        self.assertEqual(st, 200, doc)
        return self.time_until(lambda: title.encode() in self.get(self.web_b, slug)[2],
                               COHERENCE_BOUND, f"edit on A -> new title on B ({title})")

    # -- tests (run in name order; the broker outage comes last) -----------------

    def test_1_edit_on_a_seen_on_b_and_delete_on_b_seen_on_a(self):
        tap = self.cache_tap()
        slug = self.create_page(self.web_a, "Version one")
        self.settled(tap, slug, 1)
        self.warm(slug, "Version one")

        self.edit_on_a_seen_on_b(slug, "Version two")
        st, _, body = self.get(self.web_a, slug)
        self.assertIn(b"Version two", body)
        self.settled(tap, slug, 2)
        self.warm(slug, "Version two")

        st, _, _ = self.api(self.web_b, "DELETE", "/api/v1/pages/" + slug)
        self.assertEqual(st, 204)
        self.time_until(lambda: self.get(self.web_a, slug)[0] == 404, COHERENCE_BOUND,
                        "delete on B -> 404 on A")
        self.assertEqual(self.get(self.web_b, slug)[0], 404)

    def test_2_outbox_rows_published_exactly_once_by_two_relays(self):
        events = harness.EventTap(self.node, "events", keys=("page.*",)).start()
        self.addCleanup(events.stop)
        slug = self.create_page(self.web_a, "Edit 0")
        page_id = events.wait_for("page.updated", 1, EVENT_BOUND,
                                  where=lambda d: d.get("slug") == slug)[0][1]["id"]
        edits = 20
        for i in range(1, edits + 1):
            web = self.web_a if i % 2 else self.web_b
            st, _, doc = self.api(web, "PUT", "/api/v1/pages/" + slug, {"title": f"Edit {i}"})
            self.assertEqual(st, 200, doc)
        mine = lambda d: d.get("id") == page_id  # noqa: E731
        got = events.wait_for("page.updated", edits + 1, EVENT_BOUND, where=mine, settle=SETTLE)
        titles = [d["title"] for _, d, _ in got]
        self.assertEqual(len(got), edits + 1, f"page.updated published more than once: {titles}")
        self.assertEqual(sorted(titles), sorted(f"Edit {i}" for i in range(edits + 1)))
        ids = [p.message_id for _, _, p in got if p.message_id]
        self.assertEqual(len(ids), len(set(ids)), "a message id published twice")

    def test_3_broker_outage_serves_from_db_then_caches_again(self):
        tap = self.cache_tap()
        slug = self.create_page(self.web_a, "Before outage")
        self.settled(tap, slug, 1)
        self.warm(slug, "Before outage")

        self.node.stop()
        for web in (self.web_a, self.web_b):
            harness.wait_until(lambda w=web: harness.http_get(w.base_url + "/readyz", timeout=3)[0] == 503,
                               15, interval=0.2, message=f"{web.name} /readyz 503 without the broker")
            harness.wait_until(lambda w=web: self.get(w, slug)[1].get("X-Inkwell-Cache") != "hit",
                               10, interval=0.1, message=f"{web.name} stops serving cache hits")
        for web in (self.web_a, self.web_b):
            for _ in range(5):
                st, h, body = self.get(web, slug)
                self.assertEqual(st, 200, f"{web.name} while the broker is down")
                self.assertIn(b"Before outage", body)
                self.assertNotEqual(h.get("X-Inkwell-Cache"), "hit",
                                    f"{web.name} served a cached page while disconnected")
        # Edits still commit (outbox), and the other instance reads them from the DB.
        st, _, doc = self.api(self.web_a, "PUT", "/api/v1/pages/" + slug, {"title": "During outage"})
        self.assertEqual(st, 200, doc)
        st, h, body = self.get(self.web_b, slug)
        self.assertEqual(st, 200)
        self.assertIn(b"During outage", body)
        self.assertNotEqual(h.get("X-Inkwell-Cache"), "hit")

        t0 = time.monotonic()
        self.node.start()
        for web in (self.web_a, self.web_b):
            web.wait_ready(RECOVERY_BOUND)
            self.wait_for_hit(web, slug, RECOVERY_BOUND)
        print(f"\n    broker start -> both instances caching again: "
              f"{time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
        time.sleep(SETTLE)  # outbox rows written during the outage are relayed by now
        self.warm(slug, "During outage")
        self.edit_on_a_seen_on_b(slug, "After outage")


if __name__ == "__main__":
    unittest.main()
