"""docs/openapi.json on its own and against the route table: a valid OpenAPI
3.1 document, every $ref resolving, an example for every body that its
schema accepts, the statuses of API.md §1, and exactly the routes that
`cryptopay-auth routes` prints (the route table of src/api/routes.cc), so
that the document cannot drift from what the service serves.

The end-to-end harness (tests/e2e/contract.py) holds every response of every
e2e test to the same document."""

import json
import os
import re
import subprocess
import unittest

import jsonschema

import contract

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("CPA_BINARY", os.path.join(contract.SOURCE_DIR, "build", "cryptopay-auth"))
# Written for this project from the OpenAPI 3.1.0 specification (see its
# description): the published meta-schema is not vendored here.
META_SCHEMA = os.path.join(HERE, "oas-3.1.schema.json")

# What every operation may answer whatever it is (§1): nginx's 400 (headers
# too large) and 413, an internal error, and nginx's 502/504 when the workers
# cannot be reached.
EVERY_OPERATION = {"400", "413", "500", "502", "504"}
RETRY_AFTER = {"429", "502", "503", "504"}


def key(method, template):
    """("GET", "users/{id}"): trailing slashes are optional in the contract."""
    return method.upper(), template.strip("/")


def walk(node, path=()):
    """(path, dict) for every object in the document."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))


def where(path):
    return "/".join(str(p) for p in path)


class Document(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.contract = contract.Contract()
        cls.doc = cls.contract.doc

    def media_types(self):
        """(path, media type name, Media Type Object) of every request and response body."""
        for path, node in walk(self.doc):
            if path and path[-1] == "content" and all(isinstance(v, dict) for v in node.values()):
                for name, media in node.items():
                    yield path, name, media

    def test_is_an_openapi_3_1_document(self):
        with open(META_SCHEMA) as f:
            meta = json.load(f)
        jsonschema.Draft202012Validator.check_schema(meta)
        errors = sorted(jsonschema.Draft202012Validator(meta).iter_errors(self.doc),
                        key=lambda e: list(e.absolute_path))
        self.assertEqual([], ["%s: %s" % (where(e.absolute_path), e.message) for e in errors])
        self.assertTrue(self.doc["openapi"].startswith("3.1."))

    def test_meta_schema_rejects_what_the_specification_forbids(self):
        with open(META_SCHEMA) as f:
            validator = jsonschema.Draft202012Validator(json.load(f))
        op = {"responses": {"200": {"description": "ok"}}}
        good = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
                "paths": {"/a/{id}/": {"get": dict(op, parameters=[
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}])}}}
        self.assertTrue(validator.is_valid(good))
        for name, mutate in (
                ("no info", lambda d: d.pop("info")),
                ("a path not starting with /", lambda d: d["paths"].update({"a": {}})),
                ("a response without description",
                 lambda d: d["paths"]["/a/{id}/"]["get"]["responses"]["200"].pop("description")),
                ("a status code that is not one",
                 lambda d: d["paths"]["/a/{id}/"]["get"]["responses"].update({"600": {"description": "x"}})),
                ("an optional path parameter",
                 lambda d: d["paths"]["/a/{id}/"]["get"]["parameters"][0].update({"required": False})),
                ("an unknown field", lambda d: d["paths"]["/a/{id}/"]["get"].update({"bogus": 1})),
                ("example and examples together",
                 lambda d: d["paths"]["/a/{id}/"]["get"]["parameters"][0].update({"example": 1, "examples": {}})),
                ("an http scheme without scheme",
                 lambda d: d.update({"components": {"securitySchemes": {"b": {"type": "http"}}}})),
                ("OpenAPI 3.0", lambda d: d.update({"openapi": "3.0.3"}))):
            bad = json.loads(json.dumps(good))
            mutate(bad)
            self.assertFalse(validator.is_valid(bad), name)

    def test_every_schema_object_is_a_json_schema_2020_12(self):
        schemas = [(("components", "schemas", n),) + (s,) for n, s in self.doc["components"]["schemas"].items()]
        for path, node in walk(self.doc):
            if "schema" in node and isinstance(node["schema"], (dict, bool)):
                schemas.append((path, node["schema"]))
        self.assertGreater(len(schemas), 50)
        for path, schema in schemas:
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as e:
                self.fail("%s: %s" % (where(path), e.message))

    def test_every_ref_resolves(self):
        for path, node in walk(self.doc):
            ref = node.get("$ref")
            if isinstance(ref, str):
                try:
                    self.contract.resolver.resolve(ref)
                except jsonschema.RefResolutionError as e:
                    self.fail("%s: %s" % (where(path), e))

    def test_every_body_has_an_example_its_schema_accepts(self):
        count = 0
        for path, name, media in self.media_types():
            if "examples" in media:
                values = [(k, self.contract.resolve(v)["value"]) for k, v in media["examples"].items()]
            else:
                self.assertIn("example", media, "%s/%s has no example" % (where(path), name))
                values = [("example", media["example"])]
            self.assertTrue(values, "%s/%s has no example" % (where(path), name))
            for label, value in values:
                count += 1
                errors = self.contract.schema_errors(media.get("schema", {}), value)
                self.assertEqual([], errors, "%s/%s %s" % (where(path), name, label))
        self.assertGreater(count, 100)

    def test_parameter_and_header_examples_fit_their_schemas(self):
        for path, node in walk(self.doc):
            # (Media Type Objects, under "content", are the test above's.)
            if "schema" in node and "example" in node and path[-2:-1] != ("content",):
                self.assertEqual([], self.contract.schema_errors(node["schema"], node["example"]),
                                 where(path))

    def test_request_bodies_take_json_forms_and_multipart(self):
        for template, method, op in self.contract.operations():
            if "requestBody" in op:
                body = self.contract.resolve(op["requestBody"])
                self.assertEqual(set(body["content"]), {
                    "application/json", "application/x-www-form-urlencoded", "multipart/form-data"},
                    (method, template))

    def test_path_parameters_are_declared(self):
        for template, method, op in self.contract.operations():
            names = set(re.findall(r"{([^}]+)}", template))
            declared = {p["name"] for p in map(self.contract.resolve, op.get("parameters", []))
                        if p["in"] == "path"}
            self.assertEqual(names, declared, (method, template))

    def test_operation_ids_are_unique(self):
        ids = [op["operationId"] for _, _, op in self.contract.operations()]
        self.assertEqual(len(ids), len(set(ids)))

    def test_every_operation_declares_the_statuses_of_section_1(self):
        for template, method, op in self.contract.operations():
            what = "%s %s" % (method.upper(), template)
            statuses = set(op["responses"])
            self.assertLessEqual(EVERY_OPERATION, statuses, what)
            if op.get("security"):
                self.assertIn("401", statuses, what)
            if "requestBody" in op:
                self.assertIn("415", statuses, what)
            self.assertTrue(statuses & {"200", "201", "204"}, what)
            self.check_headers(what, op["responses"])
        undeclared = self.doc["x-undeclared"]
        self.assertIn("405", undeclared["method"])
        self.assertIn("404", undeclared["path"])
        self.check_headers("x-undeclared/method", undeclared["method"])
        self.check_headers("x-undeclared/path", undeclared["path"])
        self.check_headers("x-undeclared/request", undeclared["request"])
        self.assertEqual(list(undeclared["preflight"]), ["204"])
        self.check_headers("x-undeclared/preflight", undeclared["preflight"])

    def check_headers(self, what, responses):
        for status, response in responses.items():
            response = self.contract.resolve(response)
            headers = {name: self.contract.resolve(h) for name, h in response.get("headers", {}).items()}
            self.assertTrue(headers.get("X-Request-Id", {}).get("required"), (what, status))
            wanted = {"401": "WWW-Authenticate", "405": "Allow"}.get(status)
            if status in RETRY_AFTER:
                wanted = "Retry-After"
            if wanted:
                self.assertTrue(headers.get(wanted, {}).get("required"), (what, status, wanted))

    def test_cors_headers_are_declared_as_api_md_says(self):
        # API.md §1 "Browsers (CORS)", byte for byte.
        headers = {name: self.contract.resolve(h)["schema"]
                   for name, h in self.doc["x-cors"]["headers"].items()}
        self.assertEqual(set(headers), {"Access-Control-Allow-Origin",
                                        "Access-Control-Expose-Headers", "Vary"})
        self.assertEqual(headers["Access-Control-Expose-Headers"]["const"],
                         "Retry-After, X-Request-Id")
        self.assertEqual(headers["Vary"]["const"], "Origin")
        preflight = self.contract.resolve(self.doc["x-undeclared"]["preflight"]["204"])
        self.assertNotIn("content", preflight)
        schemas = {name: self.contract.resolve(h)["schema"]
                   for name, h in preflight["headers"].items()}
        self.assertLessEqual(set(headers), set(schemas))
        self.assertEqual(schemas["Access-Control-Allow-Headers"]["const"],
                         "Authorization, Content-Type, X-Request-Id")
        self.assertEqual(schemas["Access-Control-Max-Age"]["const"], 600)
        self.assertIn("Access-Control-Allow-Methods", schemas)
        every = [h for _, _, op in self.contract.operations() for r in op["responses"].values()
                 for h in self.contract.resolve(r).get("headers", {})]
        self.assertNotIn("Access-Control-Allow-Credentials", every + list(schemas))

    def test_the_bearer_scheme_is_the_only_security(self):
        schemes = self.doc["components"]["securitySchemes"]
        self.assertEqual(schemes, {"bearerAuth": schemes["bearerAuth"]})
        self.assertEqual((schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]), ("http", "bearer"))
        for template, method, op in self.contract.operations():
            self.assertIn(op.get("security"), (None, [{"bearerAuth": []}]), (method, template))

    def test_servers_are_this_server(self):
        self.assertEqual([s["url"] for s in self.doc["servers"]], [contract.API_PREFIX])


class RouteTable(unittest.TestCase):
    """The document's paths and methods are the route table's, and 🔒 is the same."""

    @classmethod
    def setUpClass(cls):
        out = subprocess.run([BINARY, "routes"], capture_output=True, text=True, check=True,
                             env={"PATH": os.environ.get("PATH", "")}).stdout
        cls.table = {}
        for line in out.splitlines():
            method, pattern, access = line.split("\t")
            # "<id>", "<id:hex32>": the parameter's name is the template's.
            cls.table[key(method, re.sub(r"<([a-z_]+)(:[a-z0-9]+)?>", r"{\1}", pattern))] = access
        cls.contract = contract.Contract()
        cls.documented = {key(m, t): op for t, m, op in cls.contract.operations()}

    def test_the_table_is_read(self):
        self.assertIn(("POST", "token/obtain"), self.table)
        self.assertGreater(len(self.table), 20)

    def test_every_route_is_in_the_document(self):
        missing = sorted(set(self.table) - set(self.documented))
        self.assertEqual([], missing, "routes of src/api/routes.cc missing from docs/openapi.json")

    def test_every_documented_route_is_served(self):
        extra = sorted(set(self.documented) - set(self.table))
        self.assertEqual([], extra, "operations of docs/openapi.json that no route serves")

    def test_locks_agree(self):
        for k, access in self.table.items():
            if k in self.documented:
                secured = bool(self.documented[k].get("security"))
                self.assertEqual(secured, access == "user", k)


if __name__ == "__main__":
    unittest.main()
