#!/usr/bin/python3
"""Registration → welcome e-mail latency, end to end, on the real system.

Starts a private RabbitMQ node, an SMTP server (aiosmtpd, in process), inkwell-mailer and
inkwell-web from the Release build, then registers N users one after another over HTTP
(POST /api/v1/users) and measures, for each, the time from the HTTP response to the SMTP
server having accepted that user's welcome mail. Prints median, p90, max and the system's
start-up time. Loopback only; bounded by --timeout per mail.

    bench/registration_latency.py [--count 100] [--build-dir build]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each mail")
    args = parser.parse_args()
    os.environ["INKWELL_BUILD_DIR"] = args.build_dir
    import harness  # noqa: E402 - needs INKWELL_BUILD_DIR first

    with tempfile.TemporaryDirectory(prefix="inkwell-bench-") as tmp:
        node = harness.RabbitNode(dir=Path(tmp) / "rabbitmq")
        smtp = harness.SmtpServer()
        services = []
        try:
            node.start()
            smtp.start()
            started = time.monotonic()
            mailer = harness.mailer_service(tmp, node.url, smtp.port)
            web = harness.web_service(tmp, node.url)
            for service in (mailer, web):
                service.start()
                services.append(service)
            harness.wait_until(lambda: harness.http_get(f"http://{web.http_addr}/readyz")[0] == 200,
                               20, message="web ready")
            startup = time.monotonic() - started

            latencies = []
            for i in range(args.count):
                address = f"bench{i}-{int(time.time())}@example.org"
                status, _, body = harness.http_post_json(
                    f"http://{web.http_addr}/api/v1/users",
                    {"name": f"Bench {i}", "email": address, "password": "benchmark-password"})
                answered = time.monotonic()
                if status != 201:
                    raise SystemExit(f"registration {i} failed: {status} {body!r}")
                mails = smtp.wait_for(1, args.timeout, to=address)
                latencies.append(mails[0].received_at - answered)

            latencies.sort()
            ms = [value * 1000 for value in latencies]
            print(f"registrations: {len(ms)}")
            print(f"services start-up (both healthy and connected): {startup:.2f} s")
            print(f"response → mail accepted by SMTP: median {statistics.median(ms):.1f} ms, "
                  f"p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms")
        finally:
            for service in reversed(services):
                service.stop()
            smtp.stop()
            node.stop()


if __name__ == "__main__":
    main()
