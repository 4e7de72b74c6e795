"""Checks docs/asyncapi.yaml and docs/openapi.yaml: well-formed, every $ref resolves, the e-mail
request schema accepts what src/contracts/email_request.cc accepts and rejects what it rejects,
the domain event (user.registered, user.confirmed, page.*, post.published, comment.created) and
log record schemas describe exactly the fields the code writes, every e-mail template the code
names exists, the HTTP routes and methods documented are exactly those of src/web/*.cc (the
route list RouteLabel in web_app.cc and the Allow header of each route), the error codes
documented are exactly those the code emits, and the names and limits the documents state
still match the code. (tests/integration/test_contracts.py
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


def web_sources():
    """Every src/web/*.cc, concatenated: the web service's routes are split over several files."""
    directory = os.path.join(ROOT, "src", "web")
    return "".join(read_source(os.path.join("src", "web", name))
                   for name in sorted(os.listdir(directory)) if name.endswith(".cc"))


def function_body(source, signature):
    """The text of the C++ function whose definition starts with signature, up to its closing
    brace at column 0."""
    found = re.search(re.escape(signature) + r".*?\n\}", source, re.S)
    if found is None:
        raise AssertionError("not found in the source: " + signature)
    return found.group(0)


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
        elif keyword == "items":
            if isinstance(value, list) and not all(is_valid(argument, item) for item in value):
                return False
        elif keyword in ("minItems", "maxItems"):
            if isinstance(value, list):
                if keyword == "minItems" and len(value) < argument:
                    return False
                if keyword == "maxItems" and len(value) > argument:
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
CONFIRM_URL = "http://127.0.0.1:8080/confirm?token=" + "A" * 43
WELCOME = {"to": "a@example.org", "template": "welcome",
           "data": {"email": "a@example.org", "name": "A", "confirm_url": CONFIRM_URL}}
CONFIRM = {"to": "a@example.org", "template": "confirm",
           "data": {"email": "a@example.org", "name": "A", "confirm_url": CONFIRM_URL}}
ACCEPTED = [
    WELCOME,  # what WelcomeEmailCommand (src/web/registration.cc) produces
    CONFIRM,  # what ConfirmEmailCommand (src/web/registration.cc) produces
    {"to": "a@example.org", "template": "welcome", "data": {"email": "a@example.org", "name": "A"}},
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
        self.assertIn({"$ref": "#/components/messages/UserRegistered"},
                      self.channels["events"]["subscribe"]["message"]["oneOf"])
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

    # The events of src/web/content.cc: message name -> the function that writes the body.
    CMS_EVENTS = {
        "UserConfirmed": "UserConfirmedEvent",
        "PageUpdated": "PageUpdatedEvent",
        "PageDeleted": "PageDeletedEvent",
        "PostPublished": "PostPublishedEvent",
        "CommentCreated": "CommentCreatedEvent",
    }

    def test_cms_events_match_code(self):
        content = read_source("src/web/content.cc")
        events = self.channels["events"]
        routing_keys = events["x-inkwell-routing-keys"]
        published = [m["$ref"] for m in events["subscribe"]["message"]["oneOf"]]
        # Every event type the web writes is documented, and nothing more.
        written = set(re.findall(r'Event\("([\w.]+)"', content)) | {"user.registered"}
        self.assertEqual(set(routing_keys), written)
        self.assertEqual(len(routing_keys), len(set(routing_keys)))
        self.assertEqual(len(published), len(routing_keys))
        # Event(): exchange `events`, routing key = type, the body as JSON, the traceparent.
        helper = function_body(content, "db::OutboxMessage Event(")
        self.assertIn("amqp::kEventsExchange, std::string(type),\n                           "
                      "std::string(type)", helper)
        for name, function in self.CMS_EVENTS.items():
            with self.subTest(event=name):
                body = function_body(content, "db::OutboxMessage %s(" % function)
                event_type = re.search(r'Event\("([\w.]+)"', body).group(1)
                message = self.doc["components"]["messages"][name]
                self.assertIn("#/components/messages/" + name, published)
                self.assertEqual(message["name"], event_type)
                self.assertEqual(message["bindings"]["amqp"]["messageType"], event_type)
                properties = message["x-amqp-properties"]["properties"]
                self.assertEqual(properties["type"]["const"], event_type)
                self.assertEqual(properties["app_id"]["const"], "inkwell-web")
                self.assertEqual(properties["delivery_mode"]["const"], 2)
                self.assertEqual(message["headers"]["$ref"], "#/components/schemas/EventHeaders")
                schema = self.doc["components"]["schemas"][name]
                always = set(re.findall(r'\{"(\w+)",', body))
                sometimes = set(re.findall(r'body\["(\w+)"\] =', body))
                self.assertTrue(always)
                self.assertEqual(set(schema["properties"]), always | sometimes)
                self.assertEqual(set(schema["required"]), always)
                full = inline(self.doc, schema)
                # Types: ids are integers, times what Rfc3339 writes, the rest strings.
                good = {}
                for field in always | sometimes:
                    if field == "id" or field.endswith("_id"):
                        self.assertEqual(full["properties"][field]["type"], "integer")
                        good[field] = 7
                    elif field.endswith("_at"):
                        self.assertEqual(schema["properties"][field]["$ref"],
                                         "#/components/schemas/MillisecondTime")
                        good[field] = "2026-11-28T10:41:01.123Z"
                    elif field == "email":
                        good[field] = "ada@example.org"
                    elif field.endswith("slug"):
                        good[field] = "about-us"
                    else:
                        self.assertEqual(full["properties"][field]["type"], "string")
                        good[field] = "A title"
                self.assertTrue(is_valid(full, good))
                self.assertTrue(is_valid(full, dict(good, added_later=True)))
                for field in always:
                    self.assertFalse(is_valid(full, {k: v for k, v in good.items() if k != field}))
                for field in sometimes:
                    self.assertTrue(is_valid(full, {k: v for k, v in good.items() if k != field}))
                for field, value in good.items():
                    bad = "7" if isinstance(value, int) else 7
                    self.assertFalse(is_valid(full, dict(good, **{field: bad})))
                for example in message["examples"]:
                    self.assertEqual(set(example["payload"]) - set(schema["properties"]), set())
        # previous_slug only when the slug changed; the times are to the millisecond.
        self.assertIn('if (!previous_slug.empty() && previous_slug != page.slug) '
                      'body["previous_slug"] = previous_slug;', content)
        self.assertIn('"%Y-%m-%dT%H:%M:%S"', content)
        self.assertIn('".%03dZ"', content)
        pattern = self.doc["components"]["schemas"]["MillisecondTime"]["pattern"]
        self.assertRegex("1970-01-01T00:00:00.007Z", pattern)
        self.assertNotRegex("1970-01-01T00:00:00Z", pattern)
        self.assertEqual(self.doc["components"]["schemas"]["Slug"]["maxLength"], 100)
        self.assertIn("kMaxSlugBytes = 100", read_source("src/web/content.h"))
        self.assertEqual(self.doc["components"]["schemas"]["Title"]["maxLength"], 200)
        self.assertIn("kMaxTitleCharacters = 200", read_source("src/web/content.h"))
        slug = ecma_pattern(self.doc["components"]["schemas"]["Slug"]["pattern"])
        for good_slug in ("a", "about-us", "2026-plans"):
            self.assertTrue(slug.search(good_slug), good_slug)
        for bad_slug in ("", "-a", "a-", "a--b", "About", "a_b", "a b"):
            self.assertFalse(slug.search(bad_slug), bad_slug)

    def test_email_templates_exist(self):
        # Every template the web asks the mailer for: subject and txt are required by the
        # mailer, and both shipped templates have an html part too.
        registration = read_source("src/web/registration.cc")
        named = set(re.findall(r'template_name = "(\w+)"', registration))
        self.assertEqual(named, {"welcome", "confirm"})
        shipped = {name.split(".")[0] for name in os.listdir(os.path.join(ROOT, "templates", "email"))}
        self.assertEqual(shipped, named)
        described = self.doc["components"]["schemas"]["TemplatedEmail"]["description"]
        for template in sorted(named):
            with self.subTest(template=template):
                self.assertIn('"%s"' % template, described)
                for part in ("subject", "txt", "html"):
                    path = os.path.join(ROOT, "templates", "email", "%s.%s.mustache" % (template, part))
                    self.assertTrue(os.path.exists(path), path)
                    with open(path, encoding="utf-8") as file:
                        text = file.read()
                    if part != "subject":
                        self.assertIn("confirm_url}}", text)
        # The data the code sends is what the description names.
        self.assertIn('request.data["confirm_url"] = confirm_url;', registration)
        self.assertIn('{"confirm_url", confirm_url}', registration)
        self.assertIn("confirm_url", described)
        examples = {e["name"]: e["payload"]
                    for e in self.doc["components"]["messages"]["EmailSendRequest"]["examples"]}
        self.assertEqual(examples["welcome"]["template"], "welcome")
        self.assertEqual(examples["confirm"]["template"], "confirm")
        self.assertIn("confirm_url", examples["welcome"]["data"])


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
        cls.web = web_sources()  # every src/web/*.cc

    # The paths each `not_allowed("<Allow>")` of the code answers for, in source order.
    API_ROUTES = [  # src/web/web_api.cc, RouteApi
        ("/api/v1/users",),
        ("/api/v1/sessions",),
        ("/api/v1/sessions/current",),
        ("/api/v1/confirmations",),
        ("/api/v1/pages",),
        ("/api/v1/pages/{slug}",),
        ("/api/v1/posts",),
        ("/api/v1/posts/{id}",),
        ("/api/v1/posts/{id}/comments",),
    ]
    SITE_ROUTES = [  # src/web/web_content.cc, RouteSite
        ("/",),
        ("/register",),
        ("/registered",),
        ("/login",),
        ("/logout",),
        ("/confirm",),
        ("/confirm/resend",),
        ("/pages",),
        ("/pages/new",),
        ("/page/{slug}",),
        ("/page/{slug}/delete",),
        ("/page/{slug}/edit",),
        ("/posts",),
        ("/posts/new",),
        ("/posts/{id}",),
        ("/posts/{id}/delete", "/posts/{id}/comments"),
        ("/posts/{id}/edit",),
    ]

    def allowed_methods(self):
        """path -> the set of methods the code allows there (from its Allow headers)."""
        allowed = {}
        operational = re.findall(r'route == "([^"]+)"\) \{\s*if \(!is_get\) return '
                                 r'not_allowed\("([A-Z, ]+)"\)', self.web_app)
        self.assertEqual(len(operational), 4)
        for path, allow in operational:
            allowed[path] = set(allow.split(", "))
        for source, routes in (("src/web/web_api.cc", self.API_ROUTES),
                               ("src/web/web_content.cc", self.SITE_ROUTES)):
            allows = re.findall(r'not_allowed\("([A-Z, ]+)"\)', read_source(source))
            self.assertEqual(len(allows), len(routes), source + ": a route was added or removed")
            for paths, allow in zip(routes, allows):
                for path in paths:
                    allowed[path] = set(allow.split(", "))
        return allowed

    def test_top_level(self):
        self.assertEqual(self.doc["openapi"], "3.0.3")
        for key in ("info", "paths", "components"):
            self.assertIn(key, self.doc)
        self.assertTrue(self.doc["info"]["title"])
        self.assertTrue(self.doc["info"]["version"])
        operation_ids = []
        for path, item in self.doc["paths"].items():
            self.assertTrue(path.startswith("/"), path)
            for method, operation in item.items():
                with self.subTest(path=path, method=method):
                    self.assertIn(method, ("get", "post", "put", "delete", "patch", "head",
                                           "options", "trace"))
                    self.assertTrue(operation["responses"])
                    operation_ids.append(operation["operationId"])
                    for status in operation["responses"]:
                        self.assertRegex(str(status), r"^[1-5][0-9][0-9]$")
                    # Every path parameter is declared.
                    declared = {p["name"] for p in (inline(self.doc, q) for q in
                                                     operation.get("parameters", []))
                                if p["in"] == "path"}
                    self.assertEqual(declared, set(re.findall(r"\{(\w+)\}", path)))
        self.assertEqual(len(operation_ids), len(set(operation_ids)))

    def test_every_ref_resolves(self):
        refs = list(all_refs(self.doc))
        self.assertTrue(refs)
        for where, ref in refs:
            with self.subTest(where=where):
                pointer(self.doc, ref)

    def test_routes_match_code(self):
        # The route list: RouteLabel's exact paths and its patterns (with their known tails).
        label = function_body(self.web_app, "std::string RouteLabel(")
        exact = re.findall(r'"(/[^"]*)"', re.search(r"kExact\[\] = \{(.*?)\};", label,
                                                       re.S).group(1))
        patterns = re.findall(r'std::pair\{"[^"]+", "([^"]+)"\}', label)
        tails = re.findall(r'"(/\w+)"', re.search(r"for \(std::string_view known : \{(.*?)\}\)",
                                                  label, re.S).group(1))
        self.assertEqual(len(patterns), 4)
        self.assertEqual(sorted(tails), ["/comments", "/delete", "/edit"])
        labels = set(exact) | set(patterns) | {p + t for p in patterns for t in tails}
        documented = set(self.doc["paths"])
        # Every exact route and every pattern is documented; nothing documented is unknown.
        self.assertEqual((set(exact) | set(patterns)) - documented, set())
        self.assertEqual(documented - labels, set())
        # The methods: exactly those each route's Allow header names (GET includes HEAD).
        allowed = self.allowed_methods()
        self.assertEqual(set(allowed), documented)
        for path, methods in allowed.items():
            with self.subTest(path=path):
                self.assertEqual(set(self.doc["paths"][path]), {m.lower() for m in methods})
                for method in self.doc["paths"][path]:
                    self.assertIn("405", self.doc["paths"][path][method]["responses"])
        # JSON 405s under /api/ and on the operational routes, HTML pages on the site.
        for path, item in self.doc["paths"].items():
            json_405 = path.startswith("/api/") or path in ("/healthz", "/readyz", "/metrics",
                                                             "/static/style.css")
            for method, operation in item.items():
                with self.subTest(path=path, method=method):
                    self.assertEqual(operation["responses"]["405"]["$ref"],
                                     "#/components/responses/MethodNotAllowed"
                                     + ("Json" if json_405 else "Page"))
                    expected = ({"accounts", "content"} if path.startswith("/api/")
                                else {"operations"} if json_405 else {"site"})
                    self.assertIn(operation["tags"][0], expected)
        self.assertEqual(set(self.doc["paths"]["/api/v1/users"]), {"post"})
        self.assertEqual(set(self.doc["paths"]["/register"]), {"get", "post"})
        self.assertEqual(set(self.doc["paths"]["/api/v1/sessions/current"]), {"get", "delete"})

    def test_security_matches_code(self):
        schemes = self.doc["components"]["securitySchemes"]
        auth = read_source("src/web/auth.h")
        self.assertEqual(schemes["bearer"], dict(schemes["bearer"], type="http", scheme="bearer"))
        self.assertEqual(schemes["sessionCookie"]["in"], "cookie")
        self.assertIn('kSessionCookie = "%s"' % schemes["sessionCookie"]["name"], auth)
        self.assertIn('kCsrfCookie = "inkwell_csrf"', auth)
        self.assertIn('kCsrfField = "csrf_token"', auth)
        self.assertIn("kSessionLifetime{24 * 14}", auth)  # Max-Age=1209600 in the docs
        self.assertIn("kConfirmationLifetime{48}", auth)
        self.assertIn("Max-Age=1209600", schemes["sessionCookie"]["description"])
        cookie = function_body(read_source("src/web/auth.cc"), "std::string CookieHeader(")
        self.assertIn('"; Path=/; Max-Age=" + std::to_string(max_age.count()) +', cookie)
        self.assertIn('"; HttpOnly; SameSite=Lax"', cookie)
        self.assertIn('header += "; Secure"', cookie)
        self.assertIn('"WWW-Authenticate", "Bearer"', self.web)
        self.assertIn('"X-Inkwell-Cache", "hit"', self.web)
        self.assertIn('"X-Inkwell-Cache", "miss"', self.web)
        # The API reads only bearer tokens, the site only cookies.
        self.assertIn("token = BearerToken(request);", self.web_app)
        # Routes that need a token say so, and answer 401 with WWW-Authenticate.
        for path, item in self.doc["paths"].items():
            for method, operation in item.items():
                security = operation.get("security")
                with self.subTest(path=path, method=method):
                    if path.startswith("/api/"):
                        self.assertNotIn({"sessionCookie": []}, security or [])
                        if security == [{"bearer": []}]:
                            self.assertEqual(operation["responses"]["401"]["$ref"],
                                             "#/components/responses/Unauthorized")
                    else:
                        self.assertNotIn({"bearer": []}, security or [])
        unauthorized = self.doc["components"]["responses"]["Unauthorized"]
        self.assertIn("WWW-Authenticate", unauthorized["headers"])

    def test_every_response_has_traceparent(self):
        for path, item in self.doc["paths"].items():
            for method, operation in item.items():
                for status, response in operation["responses"].items():
                    with self.subTest(path=path, method=method, status=status):
                        response = inline(self.doc, response)
                        self.assertIn("traceparent", response.get("headers", {}))
                        if str(status) in ("429", "503"):
                            self.assertIn("Retry-After", response["headers"])
                        if str(status) == "303":
                            self.assertIn("Location", response["headers"])
                parameters = [inline(self.doc, p) for p in operation.get("parameters", [])]
                self.assertIn(("traceparent", "header"),
                              [(p["name"], p["in"]) for p in parameters])
        self.assertIn('response.headers.emplace_back("traceparent", asked.traceparent)', self.web_app)
        # Every 503 carries Retry-After ("1" from a full pool, "5" otherwise); 429 too.
        self.assertIn('busy.headers.emplace_back("Retry-After", "1")', self.web_app)
        self.assertIn('response.status == 503 && !has_retry_after) '
                      'response.headers.emplace_back("Retry-After", "5")', self.web_app)
        throttle = function_body(self.web_app, "std::optional<http::HttpResponse> WebApp::Throttle(")
        self.assertIn('emplace_back("Retry-After", std::to_string(wait.count()))', throttle)
        redirect = function_body(self.web_app, "http::HttpResponse WebApp::Redirect(")
        self.assertIn("HttpResponse redirect{303,", redirect)
        self.assertIn('emplace_back("Location", location)', redirect)

    def test_error_codes_match_code(self):
        error = self.doc["components"]["schemas"]["Error"]
        documented = set(error["properties"]["error"]["properties"]["code"]["enum"])
        emitted = set(re.findall(r'JsonError\(\d+, "(\w+)"', self.web))
        # StoreError and the registration answer with NameOf(code): every code it returns.
        self.assertIn("core::NameOf(error.code)", self.web)
        emitted |= set(re.findall(r'return "(\w+)";', read_source("src/core/error.cc")))
        emitted.add("internal")  # NameOf's fallback
        self.assertEqual(documented, emitted)
        self.assertEqual(documented, {
            "invalid_argument", "unauthorized", "forbidden", "not_confirmed", "not_found",
            "method_not_allowed", "conflict", "payload_too_large", "unsupported_media_type",
            "rate_limited", "internal", "unavailable"})
        # Each code always comes with the same status, the one documented.
        statuses = error["x-inkwell-statuses"]
        self.assertEqual(set(statuses), documented)
        for status, code in re.findall(r'JsonError\((\d+), "(\w+)"', self.web):
            with self.subTest(code=code, status=status):
                self.assertEqual(statuses[code], int(status))
        status_for = function_body(self.web_app, "int StatusFor(ErrorCode code)")
        for name, status in re.findall(r"case ErrorCode::k(\w+): return (\d+);", status_for):
            code = re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
            self.assertEqual(statuses[code], int(status))
        self.assertIn('JsonError(outcome.status, "unavailable"', self.web)  # only 503 reaches it
        self.assertIn("outcome.status = 503;", self.web)
        for code, status in statuses.items():
            self.assertIn("%s %d" % (code, status), self.doc["info"]["description"])

    def test_limits_match_code(self):
        schemas = self.doc["components"]["schemas"]
        registration = read_source("src/web/registration.cc")
        content = read_source("src/web/content.h")
        api = read_source("src/web/web_api.cc")
        site = read_source("src/web/web_content.cc")
        paging = read_source("src/web/request_util.h")
        self.assertEqual(schemas["Name"]["maxLength"], 100)
        self.assertIn("kMaxNameCharacters = 100", registration)
        self.assertEqual(schemas["Password"]["minLength"], 8)
        self.assertIn("kMinPasswordCharacters = 8", registration)
        self.assertEqual(schemas["Password"]["maxLength"], 1024)
        self.assertIn("kMaxPasswordBytes = 1024", registration)
        self.assertEqual(schemas["Email"]["maxLength"], 254)
        self.assertIn("kMaxBodyBytes = 64 * 1024", read_source("src/http/http_message.h"))
        self.assertEqual(schemas["Title"]["maxLength"], 200)
        self.assertIn("kMaxTitleCharacters = 200", content)
        self.assertIn("1000 bytes", schemas["Title"]["description"])
        self.assertEqual(content.count("kMaxTitleCharacters, 1000)"), 0)
        self.assertEqual(read_source("src/web/content.cc").count("kMaxTitleCharacters, 1000)"), 2)
        self.assertEqual(schemas["Slug"]["maxLength"], 100)
        self.assertIn("kMaxSlugBytes = 100", content)
        self.assertIn("kMaxBodyBytes = 60000", content)
        self.assertIn("60000 bytes", schemas["MarkdownBody"]["description"])
        self.assertIn("60000 bytes", schemas["CommentBody"]["description"])
        self.assertEqual(schemas["CommentBody"]["maxLength"], 5000)
        self.assertIn("kMaxCommentCharacters = 5000", content)
        # Pagination: API page 1-100000, per_page 1-100, default 20; the site shows 10.
        parameters = self.doc["components"]["parameters"]
        self.assertEqual((parameters["ApiPage"]["schema"]["minimum"],
                          parameters["ApiPage"]["schema"]["maximum"]), (1, 100000))
        self.assertEqual((parameters["PerPage"]["schema"]["minimum"],
                          parameters["PerPage"]["schema"]["maximum"],
                          parameters["PerPage"]["schema"]["default"]), (1, 100, 20))
        self.assertIn("kDefaultPageSize = 20", api)
        self.assertIn("kMaxPerPage = 100;", paging)
        self.assertIn("kMaxPageNumber = 100000;", paging)
        self.assertIn('"page must be 1-100000 and per_page 1-100"', api)
        self.assertEqual(parameters["SitePage"]["schema"]["maximum"], 100000)
        self.assertEqual(parameters["SitePerPage"]["schema"]["enum"], [10])
        self.assertIn("kSitePageSize = 10", site)
        for path in ("/api/v1/pages", "/api/v1/posts", "/api/v1/posts/{id}/comments"):
            names = {inline(self.doc, p)["name"]
                     for p in self.doc["paths"][path]["get"]["parameters"]}
            self.assertLessEqual({"page", "per_page"}, names)
        # Form fields: every field the code reads is documented in a form, and back.
        forms = {name: schema for name, schema in schemas.items() if name.endswith("Form")}
        documented = set()
        for name, schema in forms.items():
            with self.subTest(form=name):
                self.assertIn("csrf_token", schema["required"])  # every POST form
                documented |= set(schema["properties"])
        read = set(re.findall(r'Field\((?:\*fields|form->fields|fields), "(\w+)"\)', self.web))
        self.assertEqual(documented - {"csrf_token"}, read)
        for path, item in self.doc["paths"].items():
            if "post" in item and not path.startswith("/api/"):
                with self.subTest(form=path):
                    body = item["post"]["requestBody"]["content"]
                    self.assertEqual(list(body), ["application/x-www-form-urlencoded"])
                    schema = body["application/x-www-form-urlencoded"]["schema"]["$ref"]
                    self.assertIn(schema.rsplit("/", 1)[1], forms)
                    self.assertIn("403", item["post"]["responses"])  # CSRF
        # Every form in the page templates sends the token.
        templates = os.path.join(ROOT, "templates", "web")
        for name in sorted(os.listdir(templates)):
            with open(os.path.join(templates, name), encoding="utf-8") as file:
                text = file.read()
            for form in re.findall(r"<form\b.*?</form>", text, re.S):
                with self.subTest(template=name):
                    self.assertIn('name="csrf_token" value="{{csrf_token}}"', form)
        self.assertEqual(set(schemas["UserCreate"]["required"]), {"name", "email", "password"})
        # The e-mail pattern is the one the message contract uses.
        asyncapi = load(ASYNCAPI)
        self.assertEqual(schemas["Email"]["pattern"],
                         asyncapi["components"]["schemas"]["EmailAddress"]["pattern"])
        self.assertEqual(schemas["Slug"]["pattern"],
                         asyncapi["components"]["schemas"]["Slug"]["pattern"])

    def test_json_shapes_match_code(self):
        schemas = self.doc["components"]["schemas"]
        content = read_source("src/web/content.cc")

        def keys(signature):
            return set(re.findall(r'\{"(\w+)",', function_body(content, signature)))

        def with_body(signature):
            return set(re.findall(r'json\["(\w+)"\] =', function_body(content, signature)))

        self.assertEqual(set(schemas["PageSummary"]["required"]), keys("Json PageJson("))
        self.assertEqual(set(schemas["PageSummary"]["properties"]), keys("Json PageJson("))
        self.assertEqual(set(schemas["Page"]["allOf"][1]["required"]), with_body("Json PageJson("))
        self.assertEqual(set(schemas["PostSummary"]["required"]), keys("Json PostJson("))
        self.assertEqual(set(schemas["PostSummary"]["properties"]), keys("Json PostJson("))
        self.assertEqual(set(schemas["Post"]["allOf"][1]["required"]), with_body("Json PostJson("))
        self.assertEqual(set(schemas["Comment"]["required"]), keys("Json CommentJson("))
        self.assertEqual(set(schemas["Comment"]["properties"]), keys("Json CommentJson("))
        self.assertEqual(set(schemas["Author"]["required"]), {"id", "name"})
        self.assertIn('return {{"id", id}, {"name", name}};', content)
        api = read_source("src/web/web_api.cc")
        for collection, schema in (("pages", "PageList"), ("posts", "PostList"),
                                   ("comments", "CommentList")):
            self.assertIn('Ok(200, {{"%s", %s}, {"page", paging->page}, {"per_page", '
                          'paging->per_page},' % (collection, collection), api)
            self.assertEqual(set(schemas[schema]["required"]),
                             {collection, "page", "per_page", "total"})
        accounts = read_source("src/web/web_accounts.cc")
        self.assertIn('{"token", outcome.token},', accounts)
        self.assertIn('{"expires_at", Rfc3339(outcome.expires_at_ms)},', accounts)
        self.assertEqual(set(schemas["Session"]["required"]), {"token", "expires_at", "user"})
        self.assertIn('{{"status", "accepted"},', api)
        self.assertEqual(set(schemas["Accepted"]["required"]), {"status", "message"})
        self.assertIn('Ok(200, {{"user", {{"id", visitor.user->id}, {"name", visitor.user->name},',
                      api)
        # Every example in the paths fits its schema.
        for path, item in self.doc["paths"].items():
            for method, operation in item.items():
                bodies = [operation.get("requestBody", {}).get("content", {})]
                bodies += [inline(self.doc, r).get("content", {})
                           for r in operation["responses"].values()]
                for content_types in bodies:
                    for media in content_types.values():
                        if "example" in media and "schema" in media:
                            with self.subTest(path=path, method=method):
                                self.assertTrue(is_valid(inline(self.doc, media["schema"]),
                                                         media["example"]))

    def test_responses_of_the_json_api(self):
        users = self.doc["paths"]["/api/v1/users"]["post"]
        self.assertEqual(set(users["responses"]),
                         {"201", "400", "405", "409", "413", "415", "429", "500", "503"})
        # The code sends no Location for a new user (there is no user resource to GET).
        self.assertNotIn("Location", users["responses"]["201"]["headers"])
        self.assertNotIn("/api/v1/users/", self.web)
        self.assertIn("Retry-After", inline(self.doc, users["responses"]["503"])["headers"])
        self.assertIn("Retry-After", inline(self.doc, users["responses"]["429"])["headers"])
        for path, prefix in (("/api/v1/pages", '"/api/v1/pages/" + saved->slug'),
                             ("/api/v1/posts", '"/api/v1/posts/" + std::to_string(saved->id)')):
            created = self.doc["paths"][path]["post"]["responses"]["201"]
            self.assertIn("Location", created["headers"])
            self.assertIn('emplace_back("Location", %s)' % prefix, self.web)
        sessions = self.doc["paths"]["/api/v1/sessions"]["post"]["responses"]
        self.assertEqual(set(sessions), {"201", "400", "401", "403", "405", "413", "415", "429",
                                         "500", "503"})
        self.assertEqual(sessions["403"]["content"]["application/json"]["example"]["error"]["code"],
                         "not_confirmed")
        self.assertEqual(set(self.doc["paths"]["/api/v1/sessions/current"]["delete"]["responses"])
                         & {"204"}, {"204"})
        user = self.doc["components"]["schemas"]["User"]
        self.assertTrue(is_valid(inline(self.doc, user), {"id": 1, "name": "A", "email": "a@b.c"}))
        error = inline(self.doc, self.doc["components"]["schemas"]["Error"])
        self.assertTrue(is_valid(error, {"error": {"code": "conflict", "message": "taken"}}))
        self.assertTrue(is_valid(error, {"error": {"code": "rate_limited", "message": "slow"}}))
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
                         {"303", "400", "403", "405", "409", "413", "415", "429", "500", "503"})
        self.assertIn("application/x-www-form-urlencoded", form["requestBody"]["content"])
        self.assertEqual(set(self.doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]),
                         {"text/plain; version=0.0.4; charset=utf-8"})
        self.assertEqual(set(self.doc["paths"]["/readyz"]["get"]["responses"]), {"200", "503", "405"})
        # The answers the site redirects to.
        login = self.doc["paths"]["/login"]["post"]["responses"]["303"]
        self.assertIn("Set-Cookie", login["headers"])
        self.assertIn('Redirect("/")', self.web)
        self.assertIn('Redirect("/?notice=logged_out")', self.web)
        self.assertIn('Redirect("/login?notice=resent")', self.web)
        self.assertIn('Redirect("/pages?notice=deleted")', self.web)
        self.assertIn('Redirect("/?notice=deleted")', self.web)
        self.assertIn('Redirect("/registered?email=" + http::UrlEncode(input.email))', self.web)
        notices = set(re.findall(r'code == "(\w+)"', function_body(self.web_app,
                                                                     "std::string NoticeText(")))
        self.assertEqual(notices,
                         set(self.doc["components"]["parameters"]["Notice"]["schema"]["enum"]))


if __name__ == "__main__":
    unittest.main()
