import { Controller, Get, Header } from '@nestjs/common';
import { buildOpenApiDocument } from './openapi';

// Swagger UI's static assets come from a CDN (pinned): the browser fetches them, ingest serves only this page and
// the document. Nothing on the page reaches ingest but GET /docs/json.
const SWAGGER_UI = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14';
const PAGE = `<!doctype html>
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

/** The OpenAPI document generated from the code (/docs/json) and a page that renders it (/docs). */
@Controller('docs')
export class DocsController {
  private readonly document = buildOpenApiDocument();

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return PAGE;
  }

  @Get('json')
  json(): Record<string, unknown> {
    return this.document;
  }
}
