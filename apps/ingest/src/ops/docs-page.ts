// Swagger UI's static assets come from a CDN (pinned): the browser fetches them, ingest serves only this page and
// the document, on the operations listener (ops-listener.ts), never on the public port.
const SWAGGER_UI = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14';

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Payrail ingest API</title><link rel="stylesheet" href="${SWAGGER_UI}/swagger-ui.css"></head>
<body>
<div id="api"></div>
<noscript>The OpenAPI document is at <a href="/docs/json">/docs/json</a>.</noscript>
<script src="${SWAGGER_UI}/swagger-ui-bundle.js" crossorigin="anonymous"></script>
<script>window.onload = () => { window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#api' }); };</script>
</body>
</html>
`;
