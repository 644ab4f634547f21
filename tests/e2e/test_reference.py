"""GET schema/ and GET docs/ through nginx (API.md §8): the document served
is docs/openapi.json byte for byte; the page loads only files this server
serves, under the same Content-Security-Policy as in production; nginx serves
Swagger UI's files from AUTH_SWAGGER_UI_DIR. (tests/browser renders the page.)"""

import http.client
import os
import re
import unittest

import harness

SITE_FILE = os.path.join(harness.SOURCE_DIR, "nginx", "cryptopay-auth.site.conf")


def docs_policy_of_site_file():
    """The Content-Security-Policy the production site sends with docs/."""
    with open(SITE_FILE) as f:
        site = f.read()
    block = site[site.index("location ~ ^/api/v1/auth/docs/?$"):]
    return re.search(r'add_header Content-Security-Policy "([^"]+)"', block).group(1)


class Reference(harness.ServiceTestCase):
    with_sink = False

    def static(self, path):
        """Swagger UI's files are nginx's static files, outside the contract's
        document: fetched here without the harness's contract check."""
        conn = http.client.HTTPConnection("127.0.0.1", self.service.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return harness.Response(r.status, r.headers, r.read())
        finally:
            conn.close()

    def test_schema_is_the_document_in_the_tree(self):
        r = self.api("GET", "schema/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/vnd.oai.openapi+json")
        self.assertEqual(r.body, harness.CONTRACT.raw)
        self.assertEqual(r.json()["openapi"], "3.1.0")
        head = self.service.request("HEAD", "/api/v1/auth/schema")
        self.assertEqual((head.status, head.body), (200, b""))
        self.assertEqual(head.header("Content-Length"), str(len(harness.CONTRACT.raw)))

    def test_schema_and_docs_take_get_only(self):
        for route in ("schema/", "docs/"):
            r = self.api("POST", route, {})
            self.assertEqual(r.status, 405, r)
            self.assertEqual(r.header("Allow"), "GET, HEAD")

    def test_docs_is_swagger_ui_from_this_server(self):
        r = self.api("GET", "docs/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        page = r.body.decode()
        self.assertNotIn("<script>", page)  # no inline script
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        self.assertIn("/api/v1/auth/docs/assets/swagger-ui-bundle.js", sources)
        self.assertIn("/api/v1/auth/docs/assets/swagger-initializer.js", sources)
        for source in sources:
            self.assertTrue(source.startswith("/api/v1/auth/docs/assets/"), source)
            self.assertEqual(self.static(source).status, 200, source)

    def test_docs_policy_is_the_production_sites(self):
        r = self.api("GET", "docs")
        policy = r.header("Content-Security-Policy")
        self.assertEqual(policy, docs_policy_of_site_file())
        self.assertIn("script-src 'self'", policy)
        self.assertNotIn("unsafe", policy)
        # The API's own answers keep no page policy.
        self.assertIsNone(self.api("GET", "schema/").header("Content-Security-Policy"))

    def test_assets_are_served_with_their_types(self):
        base = "/api/v1/auth/docs/assets/"
        for name, media in (("swagger-ui-bundle.js", "text/javascript"),
                            ("swagger-initializer.js", "text/javascript"),
                            ("swagger-ui.css", "text/css"), ("favicon-32x32.png", "image/png")):
            r = self.static(base + name)
            self.assertEqual((r.status, r.header("Content-Type")), (200, media), name)
        with open(os.path.join(harness.SOURCE_DIR, "docs", "ui", "swagger-initializer.js"), "rb") as f:
            self.assertEqual(self.static(base + "swagger-initializer.js").body, f.read())
        # Only what install-swagger-ui.sh put there, nothing else of the tree.
        r = self.static(base + "nope.js")
        self.assertEqual((r.status, r.body), (404, b'{"detail":"Not found."}'))
        self.assertEqual(self.static(base + "../../../../../etc/passwd").status, 404)


if __name__ == "__main__":
    unittest.main()
