"""A tiny SMTP server for smtp_sender_test: stores what it receives, can refuse on demand.

Usage: smtp_capture_server.py OUT_DIR [--rcpt-reply "451 ..."] [--data-reply "550 ..."]

Listens on 127.0.0.1 on a free port and prints "PORT <n>" on stdout once it accepts connections.
Each accepted message becomes OUT_DIR/<n>.eml (the DATA content), OUT_DIR/<n>.env (line 1
MAIL FROM, then one RCPT TO per line) and OUT_DIR/<n>.peer (the client's address and
port, which tells whether two messages shared a connection). Runs until SIGTERM.
"""

import argparse
import os
import signal
import socket
import sys

from aiosmtpd.controller import Controller


class CaptureHandler:
    def __init__(self, out_dir, rcpt_reply, data_reply):
        self.out_dir = out_dir
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
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
    args = parser.parse_args()
    handler = CaptureHandler(args.out_dir, args.rcpt_reply, args.data_reply)
    # decode_data=False keeps original_content as the exact bytes received.
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                                   ready_timeout=10)
    controller.start()
    print("PORT", controller.port, flush=True)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    controller.stop()
    return 0


if __name__ == "__main__":
    # Blocked before the server thread starts, so the signal reaches sigwait in main().
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    sys.exit(main())
