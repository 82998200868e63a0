import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { parse } from 'yaml';
import { AuditController } from '../audit/audit.controller';
import { BlocklistController } from '../blocklist/blocklist.controller';
import { ReviewsController } from '../review/reviews.controller';
import { RulesController } from '../rules/rules.controller';
import { ADMIN_ROUTES, OPENAPI_DOCUMENT_PATH, REGENERATE_OPENAPI, buildAdminOpenApi, renderAdminOpenApi } from './openapi';
import { WORKSPACE_ROOT } from './write-openapi';

const ADMIN_ACTION = 'payrail:admin-action';

/** Every route the admin controllers serve: method, OpenAPI path, and the action/scope its guard enforces. */
function servedRoutes(): { method: string; path: string; action: string; scope: string }[] {
  const out = [];
  for (const controller of [BlocklistController, ReviewsController, AuditController, RulesController]) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller));
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as unknown as Record<string, unknown>)[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '/');
      const path = `/${[base, sub].map((s) => s.replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`.replace(/:(\w+)/g, '{$1}');
      const spec = Reflect.getMetadata(ADMIN_ACTION, handler) as { action: string; scope: string };
      out.push({ method: RequestMethod[method].toLowerCase(), path, action: spec.action, scope: spec.scope });
    }
  }
  return out;
}

describe('the admin API OpenAPI document', () => {
  it('is committed as generated', () => {
    const file = join(WORKSPACE_ROOT, OPENAPI_DOCUMENT_PATH);
    const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (committed !== renderAdminOpenApi()) throw new Error(`${OPENAPI_DOCUMENT_PATH} is not what the schemas generate; regenerate with:\n  ${REGENERATE_OPENAPI}`);
    expect(parse(committed)).toEqual(buildAdminOpenApi());
  });

  it('documents exactly the routes the controllers serve, with the scope and audit action their guard enforces', () => {
    const documented = ADMIN_ROUTES.map((r) => ({ method: r.method, path: r.path, action: r.action, scope: r.scope }));
    const byKey = (a: { method: string; path: string }, b: { method: string; path: string }) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`);
    expect(servedRoutes().sort(byKey)).toEqual(documented.sort(byKey));
  });

  it('describes authentication, the refusals of every operation and the request schemas', () => {
    const doc = buildAdminOpenApi() as { paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown; parameters?: { name: string; in: string }[] }>> };
    const add = doc.paths['/admin/v1/blocklists/{list}/entries']?.['post'];
    expect(Object.keys(add?.responses ?? {}).sort()).toEqual(['200', '201', '400', '401', '403', '422', '429']);
    expect(add?.responses['429']).toMatchObject({ headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 } } } });
    expect(JSON.stringify(add?.requestBody)).toContain('"additionalProperties":false');
    const list = doc.paths['/admin/v1/blocklists/{list}']?.['get'];
    expect(list?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(['path:list', 'query:cursor', 'query:limit']);
    expect(JSON.stringify(list?.parameters)).toContain('"enum":["card","account","bin","ip","country","merchant"]');
    expect(Object.keys(doc.paths['/admin/v1/rules']?.['get']?.responses ?? {})).toEqual(['200', '401', '403', '429']);
  });
});
