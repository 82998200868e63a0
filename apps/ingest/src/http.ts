import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Body parsing for POST /v1/payments: the signature covers the exact bytes the upstream sent, so neither body is
 * parsed here. application/jose (a compact JWS) stays text, application/json (with a detached JWS) stays bytes.
 * Nest registers its JSON parser when the application initialises: initialise first, then replace it.
 */
export async function configureIngestHttp(app: NestFastifyApplication): Promise<void> {
  await app.init();
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addContentTypeParser('application/jose', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}
