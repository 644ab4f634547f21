"""The contract as docs/openapi.json declares it, for the tests: which
operation a request reached, and whether a response is one the document
declares for it (status, required headers, media type, body schema).

The harness checks every response of Service.request with it, so a test that
meets an undeclared answer fails, naming the route, the status and the body.
Requests the document does not declare are held to its `x-undeclared`
responses: `method` for a method a listed path does not take (401 only where
every method of the path is 🔒), `path` for any other path; and any request
may get one of `request`, nginx's answers to a request it cannot read. HEAD
is held to GET's responses, without a body.

CORS is cross-cutting (API.md §1): a preflight (OPTIONS with Origin and
Access-Control-Request-Method) may also get `x-undeclared`'s `preflight`
answer, whose Access-Control-Allow-Methods must be the path's methods; any
answer that carries Access-Control-Allow-Origin must carry every header of
`x-cors`, naming the request's Origin; and no answer carries an
Access-Control-* header that neither its response nor `x-cors` declares.
"""

import json
import os
import re
import urllib.parse

import jsonschema

SOURCE_DIR = os.environ.get(
    "CPA_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
DOCUMENT_PATH = os.path.join(SOURCE_DIR, "docs", "openapi.json")
API_PREFIX = "/api/v1/auth"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# The order of a 405's Allow, and so of a preflight's Access-Control-Allow-Methods.
ALLOW_ORDER = ("get", "post", "put", "patch", "delete")


class ContractError(AssertionError):
    pass


def media_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


def is_json(media):
    return media == "application/json" or media.endswith("+json")


def lower_keys(headers):
    """Request headers (a dict or an HTTPMessage) by lower-case name."""
    return {name.lower(): value for name, value in (headers or {}).items()}


def is_preflight(method, request_headers):
    h = lower_keys(request_headers)
    return method.upper() == "OPTIONS" and "origin" in h and "access-control-request-method" in h


class Route:
    """A path template of the document matched by a request path."""

    def __init__(self, template, item, secured_everywhere):
        self.template = template
        self.item = item
        self.secured_everywhere = secured_everywhere  # every operation is 🔒


class Contract:
    def __init__(self, path=DOCUMENT_PATH):
        with open(path, "rb") as f:
            self.raw = f.read()
        self.doc = json.loads(self.raw)
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.format_checker = jsonschema.FormatChecker()
        self._validators = {}
        # Templates with literal segments first: /users/me/ before /users/{id}/.
        self.templates = sorted(self.doc["paths"], key=lambda t: t.count("{"))

    # --- the document

    def resolve(self, node):
        """The object a Reference Object points to (document-local $refs)."""
        while isinstance(node, dict) and "$ref" in node:
            _, node = self.resolver.resolve(node["$ref"])
        return node

    def operations(self):
        """(template, method, operation) for every operation, in document order."""
        for template, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    yield template, method, item[method]

    def validator(self, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = jsonschema.Draft202012Validator(
                schema, resolver=self.resolver, format_checker=self.format_checker)
        return self._validators[key]

    def schema_errors(self, schema, value):
        """Messages of every way `value` fails `schema` ($refs against the document)."""
        return ["%s at %s" % (e.message, "/".join(str(p) for p in e.absolute_path) or "the top")
                for e in self.validator(schema).iter_errors(value)]

    # --- requests

    def route(self, path):
        """The Route a request path reaches, or None (trailing slash optional)."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        if not path.startswith(API_PREFIX + "/"):
            return None
        segments = path[len(API_PREFIX):].strip("/").split("/")
        for template in self.templates:
            item = self.doc["paths"][template]
            if self._matches(template, item, segments):
                ops = [item[m] for m in METHODS if m in item]
                secured = all(op.get("security") for op in ops)
                return Route(template, item, secured)
        return None

    def _matches(self, template, item, segments):
        parts = template.strip("/").split("/")
        if len(parts) != len(segments):
            return False
        for part, segment in zip(parts, segments):
            if part.startswith("{") and part.endswith("}"):
                if not self._parameter_accepts(item, part[1:-1], segment):
                    return False
            elif part != segment:
                return False
        return True

    def _parameter_accepts(self, item, name, segment):
        """A path segment as the parameter's schema reads it: an integer
        parameter takes decimal digits only (as the router does)."""
        for op in (item[m] for m in METHODS if m in item):
            for p in op.get("parameters", []):
                p = self.resolve(p)
                if p["in"] == "path" and p["name"] == name:
                    schema = p["schema"]
                    if schema.get("type") == "integer":
                        return re.fullmatch(r"[0-9]{1,18}", segment) is not None
                    return not self.schema_errors(schema, segment)
        return False

    def declared(self, method, path, request_headers=None):
        """(what the request reached, as text; its Responses Object)."""
        method = method.lower()
        route = self.route(path)
        if route is None:
            return "a path outside the document", self.doc["x-undeclared"]["path"]
        op = route.item.get("get" if method == "head" else method)
        if op is not None:
            return "%s %s" % (method.upper(), route.template), op["responses"]
        responses = dict(self.doc["x-undeclared"]["method"])
        if not route.secured_everywhere:
            responses.pop("401", None)
        # What a path answers to any method it does not take, beyond the
        # document-wide list (metrics/: 404 to a client not allowed).
        extra = route.item.get("x-undeclared-method", {})
        responses.update({k: v for k, v in extra.items() if k != "description"})
        if is_preflight(method, request_headers):
            responses.update(self.doc["x-undeclared"]["preflight"])
            return "OPTIONS %s (a preflight)" % route.template, responses
        return "%s %s (a method the path does not take)" % (method.upper(), route.template), responses

    def allow(self, path):
        """The methods of the path a request reaches, as a 405's Allow lists them."""
        item = self.route(path).item
        methods = [m.upper() for m in ALLOW_ORDER if m in item]
        return ", ".join(methods + (["HEAD"] if "get" in item else []))

    # --- responses

    def header_problems(self, what, status, declared, headers, required=True):
        """How `headers` depart from the Header Objects `declared` (by name);
        a missing header counts when it is required and `required` is true."""
        out = []
        for name, header in declared.items():
            header = self.resolve(header)
            value = headers.get(name)
            if value is None:
                if required and header.get("required"):
                    out.append("%s %d: header %s is missing" % (what, status, name))
                continue
            schema = header.get("schema", {})
            if schema.get("type") == "integer":
                value = int(value) if re.fullmatch(r"[0-9]+", value) else value
            for e in self.schema_errors(schema, value):
                out.append("%s %d: header %s: %s" % (what, status, name, e))
        return out

    def cors_problems(self, what, status, response, headers, request_headers):
        """The cross-cutting CORS headers (x-cors) of any answer."""
        cors = self.doc["x-cors"]["headers"]
        own = response.get("headers", {})
        allowed = {name.lower() for name in list(own) + list(cors)}
        out = ["%s %d: header %s is declared neither for this answer nor in x-cors"
               % (what, status, name) for name in headers.keys()
               if name.lower().startswith("access-control-") and name.lower() not in allowed]
        origin = headers.get("Access-Control-Allow-Origin")
        out += self.header_problems(what, status, cors, headers, required=origin is not None)
        if origin is not None and request_headers is not None:
            sent = lower_keys(request_headers).get("origin")
            if origin != sent:
                out.append("%s %d: Access-Control-Allow-Origin %r is not the request's Origin %r"
                           % (what, status, origin, sent))
        return out

    def problems(self, method, path, status, headers, body, request_headers=None):
        """Every way this response departs from the document; [] when it conforms.
        `request_headers`, when known, are the request's (CORS depends on them)."""
        what, responses = self.declared(method, path, request_headers)
        response = responses.get(str(status)) or responses.get("%dXX" % (status // 100)) \
            or responses.get("default") or self.doc["x-undeclared"]["request"].get(str(status))
        if response is None:
            return ["%s: status %d is not declared (declared: %s)"
                    % (what, status, ", ".join(sorted(responses)))]
        response = self.resolve(response)
        out = self.header_problems(what, status, response.get("headers", {}), headers)
        out += self.cors_problems(what, status, response, headers, request_headers)
        methods = headers.get("Access-Control-Allow-Methods")
        if methods is not None and self.route(path) and methods != self.allow(path):
            out.append("%s %d: Access-Control-Allow-Methods %r is not the path's methods %r"
                       % (what, status, methods, self.allow(path)))
        content = response.get("content")
        if method.upper() == "HEAD":
            if body:
                out.append("%s %d: HEAD answered with a body" % (what, status))
            return out
        if not content:
            if body:
                out.append("%s %d: declares no body, got %d bytes" % (what, status, len(body)))
            return out
        got = media_type(headers.get("Content-Type"))
        declared = {media_type(k): v for k, v in content.items()}
        if got not in declared:
            return out + ["%s %d: Content-Type %r is not declared (declared: %s)"
                          % (what, status, headers.get("Content-Type"), ", ".join(content))]
        if is_json(got):
            try:
                value = json.loads(body.decode("utf-8"))
            except ValueError as e:
                return out + ["%s %d: the body is not JSON (%s)" % (what, status, e)]
            schema = declared[got].get("schema", {})
            out += ["%s %d: %s" % (what, status, e) for e in self.schema_errors(schema, value)]
        return out

    def check(self, method, path, status, headers, body, request_headers=None):
        problems = self.problems(method, path, status, headers, body, request_headers)
        if problems:
            raise ContractError("docs/openapi.json does not declare the answer to %s %s:\n  %s\n"
                                "  status %d, body %r" % (method, path, "\n  ".join(problems),
                                                          status, body[:600]))
