// Starts the vendored Swagger UI on /docs (services/api/apidocs.py): a file, not an inline script, so the
// page's Content-Security-Policy allows scripts from this server only. The spec's address is on the element.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // never ask a validator on the Internet about our spec
  });
})();
