"""A tiny SMTP server for smtp_sender_test: stores what it receives, can refuse on demand.

Usage: smtp_capture_server.py OUT_DIR [--rcpt-reply "451 ..."] [--data-reply "550 ..."]
           [--reject ADDRESS] [--pipelining] [--starttls CERT KEY | --smtps CERT KEY]
           [--auth USER:PASSWORD]

--reject answers 550 to RCPT TO that one address; --pipelining advertises PIPELINING (aiosmtpd
reads commands in order, so it serves pipelined clients, but does not say so by itself);
--starttls offers STARTTLS with that certificate, --smtps speaks TLS from the first byte;
--auth requires AUTH (PLAIN or LOGIN) with those credentials, offered only under TLS when TLS is
configured.

Listens on 127.0.0.1 on a free port and prints "PORT <n>" on stdout once it accepts connections.
Each accepted message becomes OUT_DIR/<n>.eml (the DATA content), OUT_DIR/<n>.env (line 1
MAIL FROM, then one RCPT TO per line) and OUT_DIR/<n>.peer (the client's address and
port, which tells whether two messages shared a connection). Runs until SIGTERM.
"""

import argparse
import os
import signal
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class CaptureHandler:
    def __init__(self, out_dir, rcpt_reply, data_reply, reject, pipelining):
        self.out_dir = out_dir
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.reject = reject
        self.pipelining = pipelining
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        if address == self.reject:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.count += 1
        base = os.path.join(self.out_dir, str(self.count))
        with open(base + ".env", "w", encoding="utf-8") as env:
            env.write("\n".join([envelope.mail_from] + list(envelope.rcpt_tos)) + "\n")
        # The client's address and port: equal for two messages sent over one connection.
        with open(base + ".peer", "w", encoding="utf-8") as peer:
            peer.write(repr(session.peer) + "\n")
        with open(base + ".eml", "wb") as eml:
            eml.write(envelope.original_content)
        return "250 Message accepted"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--rcpt-reply", default="")
    parser.add_argument("--data-reply", default="")
    parser.add_argument("--reject", default="")
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", default="")
    args = parser.parse_args()
    handler = CaptureHandler(args.out_dir, args.rcpt_reply, args.data_reply, args.reject,
                             args.pipelining)
    options = {}
    cert = args.starttls or args.smtps
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert)
        options["tls_context" if args.starttls else "ssl_context"] = context
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535
        # Under --smtps the whole session is TLS, which aiosmtpd does not count as STARTTLS.
        options.update(authenticator=authenticator, auth_required=True,
                       auth_require_tls=bool(args.starttls))
    # decode_data=False keeps original_content as the exact bytes received.
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            ready_timeout=10, server_hostname="127.0.0.1", **options)
    controller.start()
    print("PORT", controller.port, flush=True)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    controller.stop()
    return 0


if __name__ == "__main__":
    # Blocked before the server thread starts, so the signal reaches sigwait in main().
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    sys.exit(main())
