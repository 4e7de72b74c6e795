"""The CMS in a real browser (issue 4): inkwell-web + inkwell-mailer + a private
RabbitMQ node + the in-process SMTP server, driven by headless Chromium through
tests/browser/cms_flow.mjs (playwright-core). Every mail the SMTP server accepts
is copied into a spool directory as an .eml file, where the script finds its
confirmation link. Screenshots go to $INKWELL_BUILD_DIR/test-output/screenshots.

A missing node, chromium or tests/browser/node_modules fails this test: run
scripts/install-deps test."""

import os
import shutil
import subprocess
import sys
import threading
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

BROWSER_DIR = harness.REPO / "tests" / "browser"
SCRIPT = BROWSER_DIR / "cms_flow.mjs"
CHROMIUM = Path(os.environ.get("INKWELL_CHROMIUM") or "/usr/bin/chromium")
SCREENSHOT_DIR = harness.BUILD_DIR / "test-output" / "screenshots"
SCRIPT_TIMEOUT = 120  # seconds; the script bounds itself at 85 s
SCREENSHOTS = [
    "01-register.png", "02-check-your-mail.png", "03-confirmed.png", "04-login.png",
    "05-logged-in.png", "06-new-post.png", "07-post.png", "08-comment.png", "09-home.png",
    "10-home-375.png", "11-post-375.png", "12-logged-out.png", "13-post-anonymous.png",
]


def missing_tools():
    """What the browser test needs and does not find, as readable phrases."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node (not on PATH)")
    if not CHROMIUM.exists():
        missing.append(f"chromium ({CHROMIUM})")
    if not (BROWSER_DIR / "node_modules" / "playwright-core" / "package.json").exists():
        missing.append(f"playwright-core ({BROWSER_DIR / 'node_modules'})")
    return missing


class MailSpool:
    """Copies each mail the SmtpServer accepts into `directory` as NNNN.eml (written
    to a temporary name, then renamed, so a reader never sees half a file)."""

    def __init__(self, smtp, directory):
        self.smtp = smtp
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._written = 0
        self._thread = threading.Thread(target=self._run, name="mail-spool", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        while not self._stop.is_set():
            for mail in self.smtp.messages()[self._written:]:
                self._written += 1
                name = f"{self._written:04d}.eml"
                tmp = self.directory / f".{name}.tmp"
                tmp.write_bytes(mail.raw)
                tmp.rename(self.directory / name)
            self._stop.wait(0.05)


class BrowserTest(harness.IntegrationCase):
    @classmethod
    def setUpClass(cls):
        missing = missing_tools()
        if missing:
            raise RuntimeError("the browser test needs " + ", ".join(missing)
                               + ": run scripts/install-deps test")
        super().setUpClass()
        cls.spool = MailSpool(cls.smtp, cls.tmp / "mail-spool").start()
        cls.mailer = cls.add_service(harness.mailer_service(cls.tmp, cls.node.url, cls.smtp.port))
        web = harness.web_service(cls.tmp, cls.node.url,
                                  extra_env={"INKWELL_RATE_LIMIT_PER_MINUTE": "0"})
        # Links in the mails must lead back to this instance, whatever port it got.
        web.env["INKWELL_PUBLIC_URL"] = web.base_url
        cls.web = cls.add_service(web)
        cls.web.wait_ready()
        cls.mailer.wait_ready()

    @classmethod
    def tearDownClass(cls):
        spool = getattr(cls, "spool", None)
        if spool is not None:
            spool.stop()
        super().tearDownClass()

    def test_register_confirm_login_post_comment_logout(self):
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOT_DIR.glob("*.png"):
            old.unlink()
        env = dict(os.environ)
        env.update({
            "INKWELL_BASE_URL": self.web.base_url,
            "INKWELL_MAIL_SPOOL": str(self.spool.directory),
            "INKWELL_SCREENSHOT_DIR": str(SCREENSHOT_DIR),
            "INKWELL_CHROMIUM": str(CHROMIUM),
        })
        try:
            run = subprocess.run(["node", str(SCRIPT)], cwd=str(BROWSER_DIR), env=env,
                                 stdin=subprocess.DEVNULL, capture_output=True,
                                 timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            self.fail(f"cms_flow.mjs still running after {SCRIPT_TIMEOUT}s\n"
                      f"{(exc.stdout or b'').decode('utf-8', 'replace')}\n{self.dump_logs()}")
        output = (run.stdout + run.stderr).decode("utf-8", "replace")
        sys.stderr.write(output)
        self.assertEqual(run.returncode, 0,
                         f"cms_flow.mjs exited with {run.returncode}:\n{output}\n{self.dump_logs()}")
        missing = [name for name in SCREENSHOTS if not (SCREENSHOT_DIR / name).is_file()]
        self.assertEqual(missing, [], f"screenshots not written to {SCREENSHOT_DIR}")
        sys.stderr.write(f"screenshots: {SCREENSHOT_DIR}\n")


if __name__ == "__main__":
    unittest.main()
