// The committed OpenAPI document is exactly what the code generates, and it documents every route ingest's
// controllers declare. To regenerate: OPENAPI_WRITE=1 npx jest -c apps/ingest/jest.config.cjs src/docs/openapi
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { HealthController } from '@payrail/messaging-nest';
import { PaymentsController } from '../payments/payments.controller';
import { InboundKeysController } from '../payments/inbound-keys.controller';
import { SUBMISSION_PROBLEMS, STATUS_PROBLEMS } from '../payments/problems';
import { OPENAPI_DOCUMENT_PATH, buildOpenApiDocument, renderOpenApiJson } from './openapi';

const ROOT = resolve(__dirname, '..', '..', '..', '..');

type Operation = { responses: Record<string, { content?: Record<string, unknown> }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** `GET /v1/payments/{paymentId}` for every handler of a controller, from its Nest decorators. */
function routesOf(controller: { prototype: object }): string[] {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  const routes: string[] = [];
  for (const name of Object.getOwnPropertyNames(controller.prototype)) {
    const handler = (controller.prototype as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
    const sub = String(Reflect.getMetadata(PATH_METADATA, handler));
    const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
    const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
    routes.push(`${method} ${path}`);
  }
  return routes;
}

describe('OpenAPI document', () => {
  const document = buildOpenApiDocument() as unknown as Document;

  it(`is committed as ${OPENAPI_DOCUMENT_PATH} exactly as generated`, () => {
    const file = join(ROOT, OPENAPI_DOCUMENT_PATH);
    const generated = renderOpenApiJson();
    if (process.env['OPENAPI_WRITE'] === '1') {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, generated);
    }
    const committed = existsSync(file) ? readFileSync(file, 'utf8') : '(missing)';
    if (committed !== generated) throw new Error(`${OPENAPI_DOCUMENT_PATH} is not what the code generates; run OPENAPI_WRITE=1 npx jest -c apps/ingest/jest.config.cjs src/docs/openapi`);
  });

  it('documents every route of the API and nothing else', () => {
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const declared = [...routesOf(PaymentsController), ...routesOf(InboundKeysController), ...routesOf(HealthController)];
    expect(documented.sort()).toEqual(declared.sort());
  });

  it('documents every error as application/problem+json, with each problem type of the catalogue', () => {
    const text = JSON.stringify(document);
    for (const slug of [...Object.keys(SUBMISSION_PROBLEMS), ...Object.keys(STATUS_PROBLEMS)]) expect(text).toContain(`https://payrail.dev/problems/${slug}`);
    for (const [path, ops] of Object.entries(document.paths)) {
      if (path.startsWith('/health')) continue;
      for (const op of Object.values(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) >= 400) expect(Object.keys(response.content ?? {})).toEqual(['application/problem+json']);
        }
      }
    }
    expect(Object.keys(document.paths['/v1/payments']?.['post']?.responses ?? {}).sort()).toEqual(['202', '400', '401', '403', '409', '413', '415', '422', '429', '500']);
  });
});
