"""Open-loop registration load with an SMTP sink in the same event loop.

Registrations are sent at a fixed offered rate whatever the server does (each at its scheduled
time, on an idle keep-alive connection or a new one), so a slow server shows as queueing in the
figures instead of slowing the load down. The time of each registration is its *scheduled*
send time; the SMTP sink (aiosmtpd, served on the same loop) records when each welcome mail was
accepted, so registration -> mail latency needs no clock shared between processes.
Run with /usr/bin/python3 (Debian's aiosmtpd)."""

import sys

sys.dont_write_bytecode = True

import asyncio
import json
import logging
import time

from aiosmtpd.smtp import SMTP

logging.getLogger("mail.log").setLevel(logging.CRITICAL)


class _MailLog:
    """aiosmtpd handler: the arrival time of each recipient's mail."""

    def __init__(self):
        self.arrived = {}

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        for address in envelope.rcpt_tos:
            self.arrived.setdefault(address.lower(), now)
        return "250 OK"


async def start_smtp_sink(port):
    """Serves SMTP on 127.0.0.1:port in the running loop. Returns (server, mail log)."""
    log = _MailLog()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(log, hostname="sink.bench.invalid", ident="bench-sink"), "127.0.0.1", port)
    return server, log


class _Connections:
    """Keep-alive HTTP/1.1 connections to one host; a request takes an idle one or opens one."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.idle = []

    async def post_json(self, path, obj, timeout):
        body = json.dumps(obj).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                   ).encode() + body
        reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(
            self.host, self.port)
        try:
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await asyncio.wait_for(reader.readexactly(length), timeout)
        except Exception:
            writer.close()
            raise
        self.idle.append((reader, writer))
        return status

    def close(self):
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _offered_load(http_port, smtp_port, rate, seconds, tag, mail_wait):
    server, mails = await start_smtp_sink(smtp_port)
    connections = _Connections("127.0.0.1", http_port)
    count = int(rate * seconds)
    sent = {}  # address -> (scheduled, response time or None, status)
    tasks = []

    async def register(i, scheduled):
        address = f"load-{tag}-{i}@example.org"
        try:
            status = await connections.post_json(
                "/api/v1/users",
                {"name": f"Load {i}", "email": address, "password": "benchmark-password"}, 10)
        except Exception:  # a failed request counts as an error, not as a latency
            status = None
        sent[address] = (scheduled, time.monotonic() - scheduled, status)

    started = time.monotonic() + 0.05
    for i in range(count):
        scheduled = started + i / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(register(i, scheduled)))
    await asyncio.gather(*tasks)
    accepted = {a for a, (_, _, status) in sent.items() if status == 201}
    deadline = time.monotonic() + mail_wait
    while time.monotonic() < deadline and not accepted <= mails.arrived.keys():
        await asyncio.sleep(0.05)
    connections.close()
    server.close()
    await server.wait_closed()
    responses = sorted(r for (_, r, status) in sent.values() if status == 201)
    latencies = sorted(mails.arrived[a] - sent[a][0] for a in accepted if a in mails.arrived)
    # The part after the answer (relay, broker, mailer, SMTP): the mail's arrival minus the
    # response's, per registration; negative when the mail came first.
    after_response = sorted(mails.arrived[a] - sent[a][0] - sent[a][1]
                            for a in accepted if a in mails.arrived)
    return {
        "offered": count,
        "accepted": len(accepted),
        "errors": count - len(accepted),
        "mails_missing": len(accepted) - len(latencies),
        "response_s": responses,
        "mail_latency_s": latencies,
        "mail_after_response_s": after_response,
        # (seconds into the run, mail latency) in send order, to see when a tail happened.
        "mail_latency_timeline": sorted((sent[a][0] - started, mails.arrived[a] - sent[a][0])
                                        for a in accepted if a in mails.arrived),
    }


def offered_load(http_port, smtp_port, rate, seconds, tag, mail_wait=10.0):
    """Registers rate*seconds users at `rate`/s over POST /api/v1/users on 127.0.0.1:http_port
    while serving SMTP on smtp_port. Returns counts and the sorted response times and
    registration -> mail latencies (seconds) of the accepted registrations."""
    return asyncio.run(_offered_load(http_port, smtp_port, rate, seconds, tag, mail_wait))
