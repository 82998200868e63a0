// The settlement API's OpenAPI document, generated from the controllers (@nestjs/swagger; response schemas from
// http/api.schemas.ts) and served at /docs (Swagger UI) and /docs/json. docs/openapi/settlement.json is the
// committed copy; a unit test fails when it differs from what the code generates
// (regenerate: npm run openapi:settlement).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { absolutePath } from 'swagger-ui-dist';

export const OPENAPI_DOCUMENT_PATH = 'docs/openapi/settlement.json';

export function settlementOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Payrail settlement operators API')
    .setDescription(
      'Settlement batches and ledger balances of the settlement service. Every /v1 route needs `Authorization: Bearer <token>` of an API client in SETTLEMENT_API_CLIENTS_FILE with the scope ledger:read (each consumer has its own token; no route changes anything); errors are RFC 9457 problem+json.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API client token (pso_..., its SHA-256 in SETTLEMENT_API_CLIENTS[_FILE])' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * /docs/json from @nestjs/swagger; the Swagger UI page and its assets (from swagger-ui-dist) are served here:
 * @nestjs/swagger would need @fastify/static for them, whose current major requires Node 22.
 */
export function serveOpenApi(app: NestFastifyApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, { ui: false, raw: ['json'], jsonDocumentUrl: 'docs/json' });
  const fastify = app.getHttpAdapter().getInstance();
  const assets: Record<string, string> = { 'swagger-ui.css': 'text/css', 'swagger-ui-bundle.js': 'application/javascript' };
  for (const [file, type] of Object.entries(assets)) {
    const body = readFileSync(join(absolutePath(), file));
    fastify.get(`/docs/${file}`, (_req, reply) => reply.type(type).header('cache-control', 'public, max-age=86400').send(body));
  }
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Payrail settlement API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#swagger-ui' });</script></body></html>`;
  fastify.get('/docs', (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
}
