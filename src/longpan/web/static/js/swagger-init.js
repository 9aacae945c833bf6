"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) return;
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
  window.SwaggerUIBundle({
    url: node.dataset.url,
    domNode: node,
    requestInterceptor: (req) => { if (csrf) req.headers["X-CSRF-Token"] = csrf; return req; },
  });
});
