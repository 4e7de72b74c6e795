#!/usr/bin/python3
"""Ask inkwell-mailer to send one e-mail, using nothing but docs/asyncapi.yaml and pika.

    send_email.py [--url URL] --to ADDRESS --subject TEXT --text TEXT
    send_email.py [--url URL] --to ADDRESS --template welcome [--data KEY=VALUE ...]
    send_email.py [--url URL] --legacy --to ADDRESS [--message TEXT]

The broker URL comes from --url, else $INKWELL_AMQP_URL, else the local development node.
Exit status: 0 when the broker confirmed the message (it is then safely in queue `email`;
the mailer sends it from there), 1 when the broker refused it, 2 on a connection error.
"""

import argparse
import json
import os
import sys
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5682/"
APP_ID = "inkwell-example"


def request_body(args):
    """The JSON body, in one of the forms of EmailSendRequest (docs/asyncapi.yaml)."""
    if args.legacy:  # the original system's form: a welcome mail carrying `message`
        return {"email": args.to, "message": args.message or ""}
    if args.template:
        data = dict(item.split("=", 1) for item in args.data)
        return {"to": args.to, "template": args.template, "data": data}
    return {"to": args.to, "subject": args.subject, "text": args.text}


def main():
    parser = argparse.ArgumentParser(description="Ask inkwell-mailer to send an e-mail.")
    parser.add_argument("--url", default=os.environ.get("INKWELL_AMQP_URL", DEFAULT_URL))
    parser.add_argument("--to", required=True, help="recipient address")
    parser.add_argument("--subject", default="Hello from Python")
    parser.add_argument("--text", default="This mail was requested by examples/python/send_email.py.")
    parser.add_argument("--template", help="a template under templates/email/, e.g. welcome")
    parser.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                        help="a template variable (repeatable)")
    parser.add_argument("--legacy", action="store_true",
                        help="publish like the original system: body {email, message}, "
                             "default exchange, routing key `email`, no content_type")
    parser.add_argument("--message", help="with --legacy: the text of the welcome mail")
    args = parser.parse_args()
    if any("=" not in item for item in args.data):
        parser.error("--data takes KEY=VALUE")

    body = json.dumps(request_body(args)).encode("utf-8")
    if args.legacy:
        exchange, routing_key = "", "email"
        properties = pika.BasicProperties(delivery_mode=2)
    else:
        # The properties the contract asks every producer to set (x-amqp-properties).
        exchange, routing_key = "email", "send"
        properties = pika.BasicProperties(
            message_id=str(uuid.uuid4()),  # the mailer's de-duplication key: reuse it on a retry
            type="email.send",
            app_id=APP_ID,
            timestamp=int(time.time()),
            content_type="application/json",
            delivery_mode=2)  # persistent

    parameters = pika.URLParameters(args.url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    parameters.blocked_connection_timeout = 10
    try:
        connection = pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as error:
        print(f"cannot connect to {args.url}: {error!r}", file=sys.stderr)
        return 2
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # basic_publish now waits for the broker's ack
        # mandatory: a message no queue takes comes back as UnroutableError instead of vanishing
        channel.basic_publish(exchange, routing_key, body, properties, mandatory=True)
    except pika.exceptions.UnroutableError:
        print(f"not sent: no queue is bound to exchange {exchange!r} with key {routing_key!r}",
              file=sys.stderr)
        return 1
    except pika.exceptions.NackError:
        print("not sent: the broker refused the message (nack); try again", file=sys.stderr)
        return 1
    except pika.exceptions.AMQPError as error:
        print(f"not sent: {error!r}", file=sys.stderr)
        return 2
    finally:
        if connection.is_open:
            connection.close()
    print(f"queued: exchange={exchange!r} routing_key={routing_key!r} "
          f"message_id={properties.message_id} body={body.decode()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
