// Starts Swagger UI on this server's OpenAPI document. It replaces the
// swagger-initializer.js of swagger-ui-dist (which loads a demo document from
// another host); scripts/install-swagger-ui.sh copies it into the asset
// directory beside the bundle.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/auth/schema/",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Swagger UI would otherwise send the document to an outside validator.
    validatorUrl: null,
  });
});
