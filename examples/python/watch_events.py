#!/usr/bin/python3
"""Print inkwell's domain events (exchange `events`, docs/asyncapi.yaml) as they happen.

    watch_events.py [--url URL] [--pattern user.*] [--count N] [--timeout S]

Each event is one line on stdout: the routing key, a space, the JSON body. Status goes to
stderr; "listening ..." there means the queue is bound, so events published from then on
are seen (events published while nobody listens are not kept by the broker).

The queue is exclusive and auto-delete: it lives as long as this process. A service that
must not miss events while it is down would declare a durable, named queue instead.

Exit status: 0 after --count events (or on Ctrl-C, or after --timeout without --count),
1 when --timeout seconds passed before --count events arrived, 2 on a connection error.
"""

import argparse
import json
import os
import sys
import time

import pika

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5682/"


def describe(body):
    """The body as compact JSON, or as text when it is not JSON."""
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return body.decode("utf-8", "replace")


def main():
    parser = argparse.ArgumentParser(description="Print events from inkwell's `events` exchange.")
    parser.add_argument("--url", default=os.environ.get("INKWELL_AMQP_URL", DEFAULT_URL))
    parser.add_argument("--pattern", action="append",
                        help="topic pattern to bind (repeatable; default user.*)")
    parser.add_argument("--count", type=int, default=0, help="exit after N events (0: never)")
    parser.add_argument("--timeout", type=float, default=0,
                        help="give up (exit 1) after S seconds without N events (0: never)")
    args = parser.parse_args()
    patterns = args.pattern or ["user.*"]
    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None

    parameters = pika.URLParameters(args.url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    try:
        connection = pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as error:
        print(f"cannot connect to {args.url}: {error!r}", file=sys.stderr)
        return 2

    seen = 0
    try:
        channel = connection.channel()
        # A server-named queue that disappears with this connection.
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        for pattern in patterns:
            channel.queue_bind(queue, "events", routing_key=pattern)
        channel.basic_qos(prefetch_count=10)
        print(f"listening on exchange 'events' for {', '.join(patterns)}", file=sys.stderr,
              flush=True)

        # inactivity_timeout: wake up twice a second to check the deadline
        for method, properties, body in channel.consume(queue, inactivity_timeout=0.5):
            if method is not None:
                print(f"{method.routing_key} {describe(body)}", flush=True)
                channel.basic_ack(method.delivery_tag)  # printed: done with it
                seen += 1
                if args.count and seen >= args.count:
                    return 0
            if deadline is not None and time.monotonic() >= deadline:
                if not args.count:
                    return 0  # watched for --timeout seconds, as asked
                print(f"timed out after {args.timeout:g}s with {seen} of {args.count} event(s)",
                      file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        return 0
    except pika.exceptions.AMQPError as error:
        print(f"connection lost: {error!r}", file=sys.stderr)
        return 2
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    sys.exit(main())
