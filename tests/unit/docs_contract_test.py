"""Checks docs/asyncapi.yaml and docs/openapi.yaml: well-formed, every $ref resolves, the e-mail
request schema accepts what src/contracts/email_request.cc accepts and rejects what it rejects,
the user.registered and log record schemas describe exactly the fields the code writes, and the
names and limits the documents state still match the code. (tests/integration/test_contracts.py
validates real messages captured from the running services against the same schemas.)

Run: /usr/bin/python3 -B -m unittest -v tests/unit/docs_contract_test.py
Needs python3-yaml. Uses python3-jsonschema too when it is installed; otherwise a small
built-in validator for the JSON Schema keywords the documents use checks the same examples.
"""

import json
import os
import re
import unittest

import yaml

try:
    import jsonschema
except ImportError:  # optional: python3-jsonschema
    jsonschema = None

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ASYNCAPI = os.path.join(ROOT, "docs", "asyncapi.yaml")
OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")


def load(path):
    with open(path, encoding="utf-8") as file:
        return yaml.safe_load(file)


def read_source(relative):
    with open(os.path.join(ROOT, relative), encoding="utf-8") as file:
        return file.read()


def pointer(document, ref):
    """The node a local JSON reference ("#/a/b") points to; KeyError if it does not resolve."""
    if not ref.startswith("#/"):
        raise KeyError("not a local reference: " + ref)
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(ref)
    return node


def all_refs(node, path="#"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield path, value
            else:
                yield from all_refs(value, path + "/" + str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from all_refs(value, path + "/" + str(index))


def inline(document, node, seen=()):
    """node with every local $ref replaced by its target (the schemas here are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError("recursive $ref " + ref)
            return inline(document, pointer(document, ref), seen + (ref,))
        return {key: inline(document, value, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(document, value, seen) for value in node]
    return node


# --- a small JSON Schema (draft 7) validator for the keywords the documents use ---------------

ANNOTATIONS = {"description", "title", "examples", "example", "format", "default", "readOnly",
               "writeOnly", "deprecated"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def ecma_pattern(pattern):
    # ECMA-262 "$" (no multiline) matches only at the very end; Python's also before a final "\n".
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def is_valid(schema, value):
    if schema is True or schema == {}:
        return True
    if schema is False:
        return False
    for keyword, argument in schema.items():
        if keyword in ANNOTATIONS or keyword.startswith("x-"):
            continue
        if keyword == "type":
            names = argument if isinstance(argument, list) else [argument]
            if not any(TYPES[name](value) for name in names):
                return False
        elif keyword == "enum":
            if value not in argument:
                return False
        elif keyword == "const":
            if value != argument:
                return False
        elif keyword == "required":
            if isinstance(value, dict) and any(name not in value for name in argument):
                return False
        elif keyword == "properties":
            if isinstance(value, dict):
                for name, subschema in argument.items():
                    if name in value and not is_valid(subschema, value[name]):
                        return False
        elif keyword == "additionalProperties":
            if isinstance(value, dict):
                known = set(schema.get("properties", {}))
                for name, item in value.items():
                    if name not in known and not is_valid(argument, item):
                        return False
        elif keyword in ("minimum", "maximum"):
            if TYPES["number"](value):
                if keyword == "minimum" and value < argument:
                    return False
                if keyword == "maximum" and value > argument:
                    return False
        elif keyword == "dependencies":
            if isinstance(value, dict):
                for name, needed in argument.items():
                    if name in value and any(other not in value for other in needed):
                        return False
        elif keyword in ("minLength", "maxLength"):
            if isinstance(value, str):
                if keyword == "minLength" and len(value) < argument:
                    return False
                if keyword == "maxLength" and len(value) > argument:
                    return False
        elif keyword == "pattern":
            if isinstance(value, str) and not ecma_pattern(argument).search(value):
                return False
        elif keyword == "oneOf":
            if sum(1 for subschema in argument if is_valid(subschema, value)) != 1:
                return False
        elif keyword == "anyOf":
            if not any(is_valid(subschema, value) for subschema in argument):
                return False
        elif keyword == "allOf":
            if not all(is_valid(subschema, value) for subschema in argument):
                return False
        elif keyword == "not":
            if is_valid(argument, value):
                return False
        else:
            raise NotImplementedError("schema keyword not supported by this test: " + keyword)
    return True


# --- what the code accepts and rejects (mirrors tests/unit/contracts/email_request_test.cc) ----

ADDRESS_254 = "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".cde"
ADDRESS_255 = "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".cdef"
WELCOME = {"to": "a@example.org", "template": "welcome",
           "data": {"email": "a@example.org", "name": "A"}}
ACCEPTED = [
    WELCOME,  # what WelcomeEmailCommand (src/web/registration.cc) produces
    {"to": "a@example.org", "subject": "Hi", "text": "Hello", "html": "<p>Hello</p>"},
    {"to": "a@example.org", "subject": "Hi", "text": "Hello"},
    {"to": "a@example.org", "subject": "Hi", "text": "Hello", "html": None},
    {"to": "a@example.org", "subject": "", "text": ""},
    {"email": "a@example.org", "message": "Thanks for joining"},  # the original system's form
    {"email": "a@example.org"},
    {"email": "a@example.org", "message": None},
    {"to": "a@example.org", "template": "welcome"},
    {"to": "a@example.org", "template": "welcome", "data": None},
    {"to": "a@example.org", "template": "welcome", "data": {}},
    # "template" wins over the literal fields; "to" wins over "email"; unknown fields ignored.
    {"to": "a@example.org", "template": "welcome", "subject": "Hi", "text": "x"},
    {"to": "a@example.org", "email": 5, "subject": "Hi", "text": "x"},
    {"to": "a@example.org", "template": "welcome", "extra": [1, 2]},
    {"to": "user.name+tag@sub.example.org", "subject": "s", "text": "t"},
    {"to": "o'brien@example.org", "subject": "s", "text": "t"},
    {"to": "a@b.c", "subject": "s", "text": "t"},
    {"to": "用户@例子.广告", "subject": "s", "text": "t"},
    {"to": "x" * 64 + "@example.org", "subject": "s", "text": "t"},
    {"to": "a@" + "x" * 63 + ".org", "subject": "s", "text": "t"},
    {"to": ADDRESS_254, "subject": "s", "text": "t"},
]
REJECTED = [
    {},
    {"to": 5},
    {"to": None, "subject": "Hi", "text": "Hello"},
    {"to": ["a@example.org"], "subject": "Hi", "text": "x"},
    {"subject": "Hi", "text": "Hello"},
    {"to": "a@example.org"},
    {"to": "a@example.org", "text": "Hello"},
    {"to": "a@example.org", "subject": "Hi"},
    {"to": "a@example.org", "subject": None, "text": "Hello"},
    {"to": "a@example.org", "subject": "Hi", "text": "Hello", "html": 1},
    {"to": "a@example.org", "template": None, "subject": "Hi", "text": "Hello"},
    {"to": "a@example.org", "template": ""},
    {"to": "a@example.org", "template": 7},
    {"to": "a@example.org", "template": "welcome", "data": []},
    {"to": "a@example.org", "template": "welcome", "data": "x"},
    {"to": "a@example.org", "template": "welcome", "data": {"n": 1}},
    {"to": "a@example.org", "template": "welcome", "data": {"n": None}},
    {"email": "not an address", "message": "x"},
    {"email": "a@example.org", "message": 7},
    {"email": None},
    {"to": "ada", "subject": "Hi", "text": "x"},
    {"to": "", "subject": "Hi", "text": "x"},
    {"to": "a@example.org\r\nBcc: x@y.z", "subject": "Hi", "text": "x"},
    {"to": "a@example.org\n", "subject": "Hi", "text": "x"},
    {"to": "a b@example.org", "subject": "Hi", "text": "x"},
    {"to": "<a@example.org>", "subject": "Hi", "text": "x"},
    {"to": "a@b@example.org", "subject": "Hi", "text": "x"},
    {"to": "a@localhost", "subject": "Hi", "text": "x"},
    {"to": ".a@example.org", "subject": "Hi", "text": "x"},
    {"to": "a.@example.org", "subject": "Hi", "text": "x"},
    {"to": "a..b@example.org", "subject": "Hi", "text": "x"},
    {"to": "a@example..org", "subject": "Hi", "text": "x"},
    {"to": "a@.example.org", "subject": "Hi", "text": "x"},
    {"to": "a@example.org.", "subject": "Hi", "text": "x"},
    {"to": "a@-example.org", "subject": "Hi", "text": "x"},
    {"to": "a@example-.org", "subject": "Hi", "text": "x"},
    {"to": "a@exa_mple.org", "subject": "Hi", "text": "x"},
    {"to": "a@" + "x" * 64 + ".org", "subject": "s", "text": "t"},
    {"to": "x" * 65 + "@example.org", "subject": "s", "text": "t"},
    {"to": ADDRESS_255, "subject": "s", "text": "t"},
    [],
    "a@example.org",
    42,
    None,
]


class AsyncApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = load(ASYNCAPI)
        cls.channels = cls.doc["channels"]

    def test_top_level(self):
        self.assertEqual(self.doc["asyncapi"], "2.6.0")
        for key in ("info", "servers", "channels", "components"):
            self.assertIn(key, self.doc)
        self.assertTrue(self.doc["info"]["title"])
        self.assertTrue(self.doc["info"]["version"])
        server = self.doc["servers"]["local"]
        self.assertEqual(server["url"], "amqp://127.0.0.1:5682")
        self.assertEqual(server["protocol"], "amqp")
        self.assertEqual(server["protocolVersion"], "0-9-1")

    def test_every_ref_resolves(self):
        refs = list(all_refs(self.doc))
        self.assertTrue(refs)
        for where, ref in refs:
            with self.subTest(where=where):
                pointer(self.doc, ref)

    def test_channels_are_well_formed(self):
        operation_ids = []
        for name, channel in self.channels.items():
            with self.subTest(channel=name):
                binding = channel["bindings"]["amqp"]
                self.assertIn(binding["is"], ("routingKey", "queue"))
                self.assertIn("exchange" if binding["is"] == "routingKey" else "queue", binding)
                for operation in ("publish", "subscribe"):
                    if operation in channel:
                        self.assertIn("message", channel[operation])
                        operation_ids.append(channel[operation]["operationId"])
                        self.assertEqual(channel[operation]["bindings"]["amqp"]["deliveryMode"], 2)
        self.assertEqual(len(operation_ids), len(set(operation_ids)))

    def test_topology_matches_code(self):
        topology = read_source("src/amqp/topology.cc") + read_source("src/amqp/topology.h")
        email = self.channels["email"]
        self.assertEqual(email["bindings"]["amqp"]["exchange"]["type"], "direct")
        self.assertEqual(email["bindings"]["amqp"]["queue"]["name"], "email")
        self.assertIn({"exchange": "email", "routingKey": "send"}, email["x-inkwell-routes"])
        self.assertIn({"exchange": "email", "routingKey": ""}, email["x-inkwell-routes"])
        self.assertIn({"exchange": "", "routingKey": "email"}, email["x-inkwell-routes"])
        self.assertIn('{kEmailSendKey, ""}', topology)
        self.assertIn('kEmailDeadQueue[] = "email.dead"', topology)
        publish = email["publish"]["bindings"]["amqp"]
        self.assertTrue(publish["mandatory"])
        self.assertTrue(publish["ack"])
        for exchange, kind in re.findall(r'\{k(\w+)Exchange, "(\w+)"\}', topology):
            declared = re.search(r'k%sExchange\[\] = "([\w.]+)"' % exchange, topology).group(1)
            with self.subTest(exchange=declared):
                binding = self.channels[declared]["bindings"]["amqp"]
                self.assertEqual(binding["exchange"]["name"], declared)
                self.assertEqual(binding["exchange"]["type"], kind)
                self.assertTrue(binding["exchange"]["durable"])
        units = {"seconds": 1000, "minutes": 60000}
        steps = re.findall(r'\{"(email\.retry\.\w+)", std::chrono::(seconds|minutes)\((\d+)\)\}',
                           topology)
        self.assertEqual(len(steps), 4)
        documented = sorted(name for name in self.channels if name.startswith("email.retry."))
        self.assertEqual(documented, sorted(step[0] for step in steps))
        for queue, unit, count in steps:
            with self.subTest(queue=queue):
                channel = self.channels[queue]
                self.assertEqual(channel["bindings"]["amqp"]["queue"]["name"], queue)
                self.assertEqual(channel["x-inkwell-queue-arguments"], {
                    "x-message-ttl": int(count) * units[unit],
                    "x-dead-letter-exchange": "email",
                    "x-dead-letter-routing-key": "send"})
        self.assertEqual(self.channels["email.dead"]["bindings"]["amqp"]["queue"]["name"],
                         "email.dead")

    def test_exchanges_carry_messages_exactly_when_the_code_publishes_to_them(self):
        # Every use of an exchange constant outside the topology table is a publish.
        sources = ""
        for directory in ("src/web", "src/mailer", "src/core", "src/amqp", "src/cli", "src/logd"):
            for name in sorted(os.listdir(os.path.join(ROOT, directory))):
                if name.endswith((".cc", ".h")) and not name.startswith("topology."):
                    sources += read_source(os.path.join(directory, name))
        for exchange, constant in (("events", "kEventsExchange"), ("cache", "kCacheExchange"),
                                   ("logs", "kLogsExchange")):
            with self.subTest(exchange=exchange):
                channel = self.channels[exchange]
                if constant in sources:
                    self.assertNotIn("x-inkwell-status", channel)
                    self.assertIn("subscribe", channel)
                    self.assertNotIn("NOT YET", channel["description"])
                else:
                    self.assertEqual(channel.get("x-inkwell-status"), "declared-only")
                    self.assertNotIn("publish", channel)
                    self.assertNotIn("subscribe", channel)
        # Messages to the publish-subscribe exchanges may find no queue (documented per channel).
        topology = read_source("src/amqp/topology.cc")
        broadcast = re.search(r"bool IsBroadcastExchange\(std::string_view exchange\) \{(.*?)\n\}",
                              topology, re.S).group(1)
        self.assertEqual(set(re.findall(r"k(\w+)Exchange", broadcast)), {"Events", "Cache", "Logs"})
        self.assertIn("no queue is bound", self.channels["events"]["description"].replace("\n", " "))

    def test_message_headers_match_code(self):
        consumer = read_source("src/mailer/mail_consumer.cc")
        forwarded = self.doc["components"]["schemas"]["EmailForwardHeaders"]
        for header in re.findall(r'k\w+Header\[\] = "([\w-]+)"', consumer):
            with self.subTest(header=header):
                self.assertIn(header, forwarded["required"])
                self.assertIn(header, forwarded["properties"])
        self.assertEqual(len(forwarded["required"]), 4)
        message = self.doc["components"]["messages"]["EmailSendRequest"]
        self.assertIn("traceparent", pointer(self.doc, message["headers"]["$ref"])["properties"])
        properties = message["x-amqp-properties"]["properties"]
        self.assertEqual(properties["type"]["const"], "email.send")
        self.assertIn('kEmailRequestType = "email.send"',
                      read_source("src/contracts/email_request.h"))
        self.assertIn("inkwell-web", properties["app_id"]["examples"])  # other producers: their name
        self.assertIn('app_id = "inkwell-web"', read_source("src/web/outbox_relay.h"))
        self.assertEqual(properties["delivery_mode"]["const"], 2)
        self.assertEqual(message["x-inkwell-max-body-bytes"], 262144)
        self.assertIn("kMaxEmailRequestBytes = 256 * 1024",
                      read_source("src/contracts/email_request.h"))
        self.assertIn("kMaxEmailAddressLength = 254", read_source("src/contracts/email_address.h"))

    def test_examples_match_their_schemas(self):
        for name, message in self.doc["components"]["messages"].items():
            payload = inline(self.doc, message["payload"])
            for example in message.get("examples", []):
                with self.subTest(message=name, example=example.get("name")):
                    self.assertTrue(is_valid(payload, example["payload"]))

    def test_user_registered_matches_code(self):
        header = read_source("src/contracts/user_registered.h")
        codec = read_source("src/contracts/user_registered.cc")
        registration = read_source("src/web/registration.cc")
        event_type = re.search(r'kUserRegisteredType = "([\w.]+)"', header).group(1)
        self.assertEqual(event_type, "user.registered")
        message = self.doc["components"]["messages"]["UserRegistered"]
        self.assertEqual(message["name"], event_type)
        self.assertEqual(message["bindings"]["amqp"]["messageType"], event_type)
        properties = message["x-amqp-properties"]["properties"]
        self.assertEqual(properties["type"]["const"], event_type)
        self.assertEqual(properties["app_id"]["const"], "inkwell-web")
        self.assertEqual(properties["delivery_mode"]["const"], 2)
        self.assertIn(event_type, self.channels["events"]["x-inkwell-routing-keys"])
        self.assertEqual(self.channels["events"]["subscribe"]["message"]["$ref"],
                         "#/components/messages/UserRegistered")
        # exchange, routing key and type, in the OutboxMessage's field order
        self.assertRegex(registration, r"amqp::kEventsExchange,\s*std::string\(contracts::"
                                       r"kUserRegisteredType\),\s*std::string\(contracts::"
                                       r"kUserRegisteredType\)")
        self.assertIn('emplace_back("traceparent"', read_source("src/web/outbox_relay.cc"))
        self.assertIn("traceparent", pointer(self.doc, message["headers"]["$ref"])["required"])
        schema = self.doc["components"]["schemas"]["UserRegistered"]
        encoded = set(re.findall(r'\{"(\w+)", event\.\w+\}', codec))
        self.assertEqual(encoded, {"user_id", "name", "email", "registered_at"})
        self.assertEqual(set(schema["properties"]), encoded)
        self.assertEqual(set(schema["required"]), encoded)  # ParseUserRegistered needs them all
        for field in encoded:
            self.assertIn('object.contains("%s")' % field, codec)
        self.assertEqual(schema["properties"]["user_id"]["type"], "integer")
        self.assertIn('object["user_id"].is_number_integer()', codec)
        self.assertEqual(schema["properties"]["name"]["maxLength"], 100)
        self.assertIn("kMaxNameCharacters = 100", registration)
        # registered_at: what strftime("%Y-%m-%dT%H:%M:%SZ") writes
        self.assertIn('"%Y-%m-%dT%H:%M:%SZ"', registration)
        pattern = schema["properties"]["registered_at"]["pattern"]
        import time
        self.assertRegex(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(0)), pattern)
        self.assertNotRegex("2026-11-28T08:10:11.123Z", pattern)
        full = inline(self.doc, schema)
        good = {"user_id": 7, "name": "Ada", "email": "ada@example.org",
                "registered_at": "2026-11-28T08:10:11Z", "added_later": True}
        self.assertTrue(is_valid(full, good))
        for field, bad in (("user_id", "7"), ("user_id", 0), ("user_id", 1.5), ("name", ""),
                           ("email", "not-an-address"), ("registered_at", "yesterday")):
            with self.subTest(field=field, value=bad):
                self.assertFalse(is_valid(full, dict(good, **{field: bad})))
        for field in encoded:
            with self.subTest(missing=field):
                self.assertFalse(is_valid(full, {k: v for k, v in good.items() if k != field}))

    def test_log_records_match_code(self):
        log = read_source("src/core/log.cc")
        publisher = read_source("src/amqp/log_publisher.cc")
        topology = read_source("src/amqp/topology.cc") + read_source("src/amqp/topology.h")
        schema = self.doc["components"]["schemas"]["LogRecord"]
        record = re.search(r"std::string Record\(.*?\n\}", log, re.S).group(0)
        always = {"time", "fields"} | set(re.findall(r'AppendString\(record, "(\w+)", \*?g?_?\w+\)',
                                                     record))
        always.discard("trace_id")
        self.assertEqual(always, {"time", "service", "instance", "level", "message", "fields"})
        self.assertIn('AppendString(record, "trace_id", trace_id)', record)
        self.assertIn("if (!trace_id.empty())", record)
        span = set(re.findall(r'\\"(\w+)\\":', re.search(r"void Log::Span\(.*?\n\}", log,
                                                            re.S).group(0)))
        self.assertEqual(span, {"kind", "duration_ms"})
        self.assertIn('\\"kind\\":\\"span\\"', log)
        self.assertEqual(set(schema["required"]), always)
        self.assertEqual(set(schema["properties"]), always | span | {"trace_id"})
        self.assertEqual(schema["properties"]["kind"]["const"], "span")
        self.assertEqual(schema["dependencies"], {"kind": ["duration_ms"], "duration_ms": ["kind"]})
        levels = re.search(r"std::string_view NameOf\(LogLevel level\) \{(.*?)\n\}", log, re.S)
        self.assertEqual(sorted(re.findall(r'"(\w+)"', levels.group(1))),
                         sorted(schema["properties"]["level"]["enum"]))
        self.assertIn('Emit("info", Record(start, "info"', log)  # spans are info records
        # time: strftime("%Y-%m-%dT%H:%M:%S") + "." + three digits + "Z"
        self.assertIn('"%Y-%m-%dT%H:%M:%S"', log)
        self.assertIn('"." + std::to_string(1000 + millis).substr(1) + "Z"', log)
        self.assertRegex("1970-01-01T00:00:00.007Z", schema["properties"]["time"]["pattern"])
        self.assertIn('std::string(host) + ":" + std::to_string(getpid())', log)
        # routing key "<service>.<level>", exchange, type and app_id of the message
        self.assertIn('sink->Offer(*g_service + "." + std::string(level)', log)
        self.assertIn("outgoing.exchange = kLogsExchange;", publisher)
        self.assertIn("outgoing.routing_key = routing_key;", publisher)
        self.assertIn("outgoing.message.message_id = core::NewUuid();", publisher)
        message = self.doc["components"]["messages"]["LogRecord"]
        properties = message["x-amqp-properties"]["properties"]
        self.assertIn('outgoing.message.type = "%s";' % properties["type"]["const"], publisher)
        self.assertEqual(message["bindings"]["amqp"]["messageType"], "log.record")
        self.assertIn("outgoing.message.app_id = core::Log::service();", publisher)
        self.assertIn("outgoing.message.timestamp = std::time(nullptr);", publisher)
        self.assertIn("timestamp", message["x-amqp-properties"]["required"])
        self.assertNotIn("headers", publisher)
        self.assertNotIn("headers", message)
        for service in re.findall(r'Log::Init\("([\w-]+)"', read_source("src/web/main.cc")
                                  + read_source("src/mailer/main.cc")):
            with self.subTest(service=service):
                self.assertRegex(service, schema["properties"]["service"]["pattern"])
                self.assertIn(service, properties["app_id"]["examples"])
        # queue logd: bound with "#", bounded in bytes
        logs = self.channels["logs"]
        self.assertEqual(logs["subscribe"]["message"]["$ref"], "#/components/messages/LogRecord")
        self.assertIn('kLogdQueue[] = "logd"', topology)
        self.assertEqual(logs["bindings"]["amqp"]["queue"]["name"], "logd")
        self.assertIn('BindQueue(kLogdQueue, kLogsExchange, "#")', topology)
        self.assertEqual(logs["x-inkwell-routes"], [{"exchange": "logs", "routingKey": "#"}])
        self.assertIn("kLogdQueueBytes = 256LL * 1024 * 1024", topology)
        self.assertIn('{{"x-max-length-bytes", kLogdQueueBytes}}', topology)
        self.assertEqual(logs["x-inkwell-queue-arguments"], {"x-max-length-bytes": 256 * 1024 * 1024})
        self.assertIn("capacity = 20000", read_source("src/amqp/log_publisher.h"))
        self.assertIn("20000 records", logs["description"].replace("\n", " "))
        # the schema itself
        full = inline(self.doc, schema)
        good = {"time": "2026-11-28T08:10:11.123Z", "service": "inkwell-web",
                "instance": "host:12", "level": "info", "message": "m", "fields": {"k": "v"}}
        spanned = dict(good, trace_id="4bf92f3577b34da6a3ce929d0e0e4736", kind="span",
                       duration_ms=0.25)
        self.assertTrue(is_valid(full, good))
        self.assertTrue(is_valid(full, spanned))
        for bad in (dict(good, level="fatal"), dict(good, fields={"k": 1}),
                    dict(good, time="2026-11-28T08:10:11Z"), dict(good, trace_id="XYZ"),
                    dict(good, kind="span"), dict(good, duration_ms=1.0),
                    dict(spanned, duration_ms=-1), dict(good, service="a.b")):
            with self.subTest(bad=bad):
                self.assertFalse(is_valid(full, bad))

    @unittest.skipIf(jsonschema is None, "python3-jsonschema is not installed")
    def test_message_schemas_are_valid_draft7(self):
        validator_class = jsonschema.validators.validator_for(
            {"$schema": "http://json-schema.org/draft-07/schema#"})
        for name, message in self.doc["components"]["messages"].items():
            for part in ("payload", "headers", "x-amqp-properties"):
                if part in message:
                    with self.subTest(message=name, part=part):
                        schema = inline(self.doc, message[part])
                        validator_class.check_schema(schema)
                        for example in message.get("examples", []):
                            key = {"payload": "payload", "headers": "headers"}.get(part)
                            if key and key in example:
                                self.assertTrue(validator_class(schema).is_valid(example[key]))

    def test_welcome_template_exists(self):
        for part in ("subject", "txt", "html"):
            path = os.path.join(ROOT, "templates", "email", "welcome.%s.mustache" % part)
            self.assertTrue(os.path.exists(path), path)


class EmailRequestSchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        doc = load(ASYNCAPI)
        cls.schema = inline(doc, doc["components"]["messages"]["EmailSendRequest"]["payload"])

    def test_accepts_what_the_code_accepts(self):
        for body in ACCEPTED:
            with self.subTest(body=json.dumps(body, ensure_ascii=False)[:120]):
                self.assertTrue(is_valid(self.schema, body))

    def test_rejects_what_the_code_rejects(self):
        for body in REJECTED:
            with self.subTest(body=json.dumps(body, ensure_ascii=False)[:120]):
                self.assertFalse(is_valid(self.schema, body))

    def test_address_length_limit_is_in_bytes_for_ascii(self):
        self.assertEqual(len(ADDRESS_254.encode()), 254)
        self.assertEqual(len(ADDRESS_255.encode()), 255)

    @unittest.skipIf(jsonschema is None, "python3-jsonschema is not installed")
    def test_jsonschema_agrees(self):
        validator_class = jsonschema.validators.validator_for(
            {"$schema": "http://json-schema.org/draft-07/schema#"})
        validator_class.check_schema(self.schema)
        validator = validator_class(self.schema)
        for body in ACCEPTED:
            with self.subTest(accepted=json.dumps(body, ensure_ascii=False)[:120]):
                self.assertTrue(validator.is_valid(body))
        for body in REJECTED:
            if isinstance(body, dict) and str(body.get("to", "")).endswith("\n"):
                continue  # Python's re "$" also matches before a final newline; ECMA's does not
            with self.subTest(rejected=json.dumps(body, ensure_ascii=False)[:120]):
                self.assertFalse(validator.is_valid(body))


class OpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = load(OPENAPI)
        cls.web_app = read_source("src/web/web_app.cc")

    def test_top_level(self):
        self.assertEqual(self.doc["openapi"], "3.0.3")
        for key in ("info", "paths", "components"):
            self.assertIn(key, self.doc)
        self.assertTrue(self.doc["info"]["title"])
        self.assertTrue(self.doc["info"]["version"])
        for path, item in self.doc["paths"].items():
            self.assertTrue(path.startswith("/"), path)
            for method, operation in item.items():
                with self.subTest(path=path, method=method):
                    self.assertIn(method, ("get", "post", "put", "delete", "patch", "head",
                                           "options", "trace", "parameters"))
                    self.assertTrue(operation["responses"])
                    for status in operation["responses"]:
                        self.assertRegex(str(status), r"^[1-5][0-9][0-9]$")

    def test_every_ref_resolves(self):
        refs = list(all_refs(self.doc))
        self.assertTrue(refs)
        for where, ref in refs:
            with self.subTest(where=where):
                pointer(self.doc, ref)

    def test_routes_match_code(self):
        routes = re.search(r"kRoutes = \{([^}]*)\}", self.web_app).group(1)
        self.assertEqual(sorted(re.findall(r'"([^"]+)"', routes)), sorted(self.doc["paths"]))
        self.assertEqual(set(self.doc["paths"]["/api/v1/users"]), {"post"})
        self.assertEqual(set(self.doc["paths"]["/register"]), {"get", "post"})

    def test_every_response_has_traceparent(self):
        for path, item in self.doc["paths"].items():
            for method, operation in item.items():
                for status, response in operation["responses"].items():
                    with self.subTest(path=path, method=method, status=status):
                        response = inline(self.doc, response)
                        self.assertIn("traceparent", response.get("headers", {}))
                parameters = [inline(self.doc, p) for p in operation.get("parameters", [])]
                self.assertIn(("traceparent", "header"),
                              [(p["name"], p["in"]) for p in parameters])
        self.assertIn('emplace_back("traceparent", traceparent)', self.web_app)

    def test_error_codes_match_code(self):
        documented = set(self.doc["components"]["schemas"]["Error"]["properties"]["error"]
                         ["properties"]["code"]["enum"])
        emitted = set(re.findall(r'JsonError\(\d+, "(\w+)"', self.web_app))
        emitted |= set(re.findall(r'return "(\w+)";', read_source("src/core/error.cc")))
        emitted.add("internal")  # NameOf's fallback
        self.assertEqual(documented, emitted)
        self.assertEqual(documented, {"invalid_argument", "conflict", "payload_too_large",
                                      "unsupported_media_type", "unavailable", "not_found",
                                      "method_not_allowed", "internal"})

    def test_limits_match_code(self):
        schemas = self.doc["components"]["schemas"]
        registration = read_source("src/web/registration.cc")
        self.assertEqual(schemas["Name"]["maxLength"], 100)
        self.assertIn("kMaxNameCharacters = 100", registration)
        self.assertEqual(schemas["Password"]["minLength"], 8)
        self.assertIn("kMinPasswordCharacters = 8", registration)
        self.assertEqual(schemas["Password"]["maxLength"], 1024)
        self.assertIn("kMaxPasswordBytes = 1024", registration)
        self.assertEqual(schemas["Email"]["maxLength"], 254)
        self.assertIn("kMaxBodyBytes = 64 * 1024", read_source("src/http/http_message.h"))
        self.assertEqual(set(schemas["RegistrationForm"]["properties"]),
                         {"user_name", "user_email", "user_password"})
        for field in ("user_name", "user_email", "user_password"):
            self.assertIn('"%s"' % field, self.web_app)
        self.assertEqual(set(schemas["UserCreate"]["required"]), {"name", "email", "password"})
        # The e-mail pattern is the one the message contract uses.
        asyncapi = load(ASYNCAPI)
        self.assertEqual(schemas["Email"]["pattern"],
                         asyncapi["components"]["schemas"]["EmailAddress"]["pattern"])

    def test_responses_of_the_json_api(self):
        users = self.doc["paths"]["/api/v1/users"]["post"]
        self.assertEqual(set(users["responses"]),
                         {"201", "400", "405", "409", "413", "415", "500", "503"})
        self.assertIn("Location", users["responses"]["201"]["headers"])
        self.assertIn("Retry-After", users["responses"]["503"]["headers"])
        self.assertIn('"Retry-After", "1"', self.web_app)
        user = self.doc["components"]["schemas"]["User"]
        self.assertTrue(is_valid(inline(self.doc, user), {"id": 1, "name": "A", "email": "a@b.c"}))
        error = inline(self.doc, self.doc["components"]["schemas"]["Error"])
        self.assertTrue(is_valid(error, {"error": {"code": "conflict", "message": "taken"}}))
        self.assertFalse(is_valid(error, {"error": {"code": "teapot", "message": "x"}}))
        create = inline(self.doc, self.doc["components"]["schemas"]["UserCreate"])
        self.assertTrue(is_valid(create, {"name": "Ada", "email": "ada@example.org",
                                          "password": "12345678"}))
        self.assertFalse(is_valid(create, {"name": "Ada", "email": "ada@example.org",
                                           "password": "1234567"}))
        self.assertFalse(is_valid(create, {"name": "x" * 101, "email": "ada@example.org",
                                           "password": "12345678"}))
        self.assertFalse(is_valid(create, {"name": "Ada", "email": "ada", "password": "12345678"}))
        form = self.doc["paths"]["/register"]["post"]
        self.assertEqual(set(form["responses"]),
                         {"303", "400", "405", "409", "413", "415", "500", "503"})
        self.assertIn("application/x-www-form-urlencoded", form["requestBody"]["content"])
        self.assertEqual(set(self.doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]),
                         {"text/plain; version=0.0.4; charset=utf-8"})
        self.assertEqual(set(self.doc["paths"]["/readyz"]["get"]["responses"]), {"200", "503", "405"})


if __name__ == "__main__":
    unittest.main()
