// Builds docs/fraud-check-admin.openapi.yaml (OpenAPI 3.1) from the admin API's zod schemas and route table.
// Tooling only: the service never imports it. The unit tests regenerate the document and fail when the
// committed file differs, and check that every route the controllers serve is in it with the same role.
//   Regenerate: SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register apps/fraud-check/src/admin/write-openapi.ts
import { Document, isScalar, visit } from 'yaml';
import { z } from 'zod';
import {
  AuditEntrySchema,
  AuditPage,
  AuditQuery,
  BlocklistAdded,
  BlocklistEntryBody,
  BlocklistEntrySchema,
  BlocklistPage,
  BlocklistPageQuery,
  BlocklistParams,
  BlocklistRemoved,
  ProblemSchema,
  ReviewDecided,
  ReviewDecisionBody,
  ReviewPage,
  ReviewPageQuery,
  ReviewParams,
  ReviewSummarySchema,
  ReviewViewSchema,
  RulesView,
} from './admin-api.schemas';
import { AdminScope, ON_BEHALF_HEADER, ON_BEHALF_SCOPE } from './operators';
import { RuleSetSchema } from '../rules/ruleset';

export const OPENAPI_DOCUMENT_PATH = 'docs/fraud-check-admin.openapi.yaml';
export const REGENERATE_OPENAPI = 'SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register apps/fraud-check/src/admin/write-openapi.ts';

type Json = Record<string, unknown>;

export interface AdminRoute {
  method: 'get' | 'post';
  /** OpenAPI path template. */
  path: string;
  action: string;
  scope: AdminScope;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  ok: { status: number; description: string; schema: z.ZodType; also?: { status: number; description: string; schema: z.ZodType } };
  /** Problems this route answers besides 401/403 and request validation. */
  problems?: Record<number, string>;
}

export const ADMIN_ROUTES: AdminRoute[] = [
  {
    method: 'get',
    path: '/admin/v1/blocklists/{list}',
    action: 'blocklist.list',
    scope: 'blocklist:read',
    summary: 'List the entries of a blocklist, a page at a time',
    params: BlocklistParams,
    query: BlocklistPageQuery,
    ok: { status: 200, description: 'One page; next_cursor is null on the last', schema: BlocklistPage },
  },
  {
    method: 'post',
    path: '/admin/v1/blocklists/{list}/entries',
    action: 'blocklist.add',
    scope: 'blocklist:write',
    summary: 'Add a value to a blocklist (or replace its reason). The value travels in the body, never in the URL.',
    params: BlocklistParams,
    body: BlocklistEntryBody,
    ok: { status: 201, description: 'Added', schema: BlocklistAdded, also: { status: 200, description: 'Already listed: reason replaced', schema: BlocklistAdded } },
  },
  {
    method: 'post',
    path: '/admin/v1/blocklists/{list}/removals',
    action: 'blocklist.remove',
    scope: 'blocklist:write',
    summary: 'Remove a value from a blocklist',
    params: BlocklistParams,
    body: BlocklistEntryBody,
    ok: { status: 200, description: 'Removed', schema: BlocklistRemoved },
    problems: { 404: 'The value is not on the list (blocklist-entry-not-found)' },
  },
  {
    method: 'get',
    path: '/admin/v1/reviews',
    action: 'reviews.list',
    scope: 'reviews:read',
    summary: 'Payments waiting for an analyst, oldest first',
    query: ReviewPageQuery,
    ok: { status: 200, description: 'One page of the queue', schema: ReviewPage },
  },
  {
    method: 'get',
    path: '/admin/v1/reviews/{paymentId}',
    action: 'review.read',
    scope: 'reviews:read',
    summary: 'One payment in review, with the analyst decision once taken',
    params: ReviewParams,
    ok: { status: 200, description: 'The review', schema: ReviewViewSchema },
    problems: { 404: 'The payment is not (or no longer) in review (review-not-found)' },
  },
  {
    method: 'post',
    path: '/admin/v1/reviews/{paymentId}/decision',
    action: 'review.decide',
    scope: 'reviews:decide',
    summary: 'Decide a payment in review: it continues as a new screened event carrying the analyst decision (settlement posts it when APPROVE). The same decision again is a no-op.',
    params: ReviewParams,
    body: ReviewDecisionBody,
    ok: { status: 200, description: 'Decided now, or already decided the same way', schema: ReviewDecided },
    problems: { 404: 'Not in review (review-not-found)', 409: 'Already decided the other way (review-already-decided)' },
  },
  {
    method: 'get',
    path: '/admin/v1/audit',
    action: 'audit.list',
    scope: 'audit:read',
    summary: 'The audit trail of every admin call (who, what, when, outcome), newest first',
    query: AuditQuery,
    ok: { status: 200, description: 'One page; next_before is null on the last', schema: AuditPage },
  },
  {
    method: 'get',
    path: '/admin/v1/rules',
    action: 'rules.read',
    scope: 'rules:read',
    summary: 'The rule set in force on the instance that answers (version, content hash, last refused reload)',
    ok: { status: 200, description: 'The rule set', schema: RulesView },
  },
];

function rawJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
  delete out['$schema'];
  return out;
}

/** Shown once under components.schemas and referenced wherever they appear. */
const SHARED: Record<string, Json> = {
  Timestamp: rawJsonSchema(z.iso.datetime({ offset: true }), 'output'),
  RuleSet: rawJsonSchema(RuleSetSchema, 'output'),
  ReviewSummary: rawJsonSchema(ReviewSummarySchema, 'output'),
  BlocklistEntry: rawJsonSchema(BlocklistEntrySchema, 'output'),
  AuditEntry: rawJsonSchema(AuditEntrySchema, 'output'),
};
const sharedByShape = new Map(Object.entries(SHARED).map(([name, schema]) => [JSON.stringify(schema), name]));

function referenceShared(node: unknown, except?: string): unknown {
  if (Array.isArray(node)) return node.map((n) => referenceShared(n, except));
  if (typeof node !== 'object' || node === null) return node;
  const shared = sharedByShape.get(JSON.stringify(node));
  if (shared !== undefined && shared !== except) return { $ref: `#/components/schemas/${shared}` };
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, referenceShared(v, except)]));
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  return referenceShared(rawJsonSchema(schema, io)) as Json;
}

function parameters(schema: z.ZodObject | undefined, location: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input');
  const properties = (json['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((json['required'] as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: location, required: location === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

const problem = (description: string): Json => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

function operation(route: AdminRoute): Json {
  const responses: Record<string, Json> = {
    [route.ok.status]: { description: route.ok.description, content: { 'application/json': { schema: jsonSchema(route.ok.schema, 'output') } } },
  };
  if (route.ok.also) responses[route.ok.also.status] = { description: route.ok.also.description, content: { 'application/json': { schema: jsonSchema(route.ok.also.schema, 'output') } } };
  if (route.params || route.query) responses['400'] = problem('A path or query parameter is invalid (invalid-request); errors[].pointer names it, e.g. #/path/list');
  responses['401'] = problem('No valid operator token (unauthenticated; counted in metrics, not audited); WWW-Authenticate: Bearer');
  responses['429'] = {
    ...problem('Too many failed authentications from this client address (rate-limited; CLIENT_AUTH_FAILURE_LIMIT_PER_S / _BURST): refused before any token is compared, counted in metrics, not audited'),
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } } },
  };
  responses['403'] = problem(`The token lacks the ${route.scope} scope, or sends ${ON_BEHALF_HEADER} without the ${ON_BEHALF_SCOPE} scope (forbidden, audited); required_scope names it`);
  for (const [status, description] of Object.entries(route.problems ?? {})) responses[status] = problem(description);
  if (route.body) responses['422'] = problem('The body is invalid (invalid-request-body); errors[].pointer names each field, e.g. #/value');
  const op: Json = {
    operationId: route.action.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase()),
    summary: route.summary,
    'x-payrail-scope': route.scope,
    'x-payrail-audit-action': route.action,
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    responses,
  };
  if (route.body) op['requestBody'] = { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } };
  if ((op['parameters'] as Json[]).length === 0) delete op['parameters'];
  return op;
}

export function buildAdminOpenApi(): Json {
  const paths: Record<string, Json> = {};
  for (const route of ADMIN_ROUTES) paths[route.path] = { ...(paths[route.path] ?? {}), [route.method]: operation(route) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payrail fraud-check admin API',
      version: '1',
      description: [
        'Blocklists, the review queue, the audit trail and the rule set in force, served by fraud-check on its HTTP port.',
        'Every call needs an operator bearer token (FRAUD_OPERATORS_FILE holds their SHA-256 hashes) with the scope the operation',
        'names in x-payrail-scope (reviews:read, reviews:decide, blocklist:read, blocklist:write, audit:read, rules:read; role read',
        'grants every :read scope, role write those plus reviews:decide and blocklist:write). A caller with the act-for-operators',
        `scope (the console) names the person it acts for in ${ON_BEHALF_HEADER}; the call is then recorded as <caller id>:<person>.`,
        'Every authenticated call, refused ones included, is audited (GET /admin/v1/audit); calls without a valid token are only counted',
        '(payrail_operator_access_refused_total on /metrics).',
        'Errors are RFC 9457 problem+json.',
      ].join(' '),
    },
    servers: [{ url: 'http://127.0.0.1:8082', description: 'fraud-check (HTTP_PORT)' }],
    security: [{ operatorToken: [] }],
    paths,
    components: {
      securitySchemes: { operatorToken: { type: 'http', scheme: 'bearer', description: 'pfo_... token from `npm run fraud:operator-token`' } },
      schemas: { Problem: jsonSchema(ProblemSchema, 'output'), ...Object.fromEntries(Object.entries(SHARED).map(([name, schema]) => [name, referenceShared(schema, name)])) },
    },
  };
}

export function renderAdminOpenApi(): string {
  const banner = [`# Generated from apps/fraud-check/src/admin/admin-api.schemas.ts by openapi.ts. Do not edit by hand.`, `# Regenerate: ${REGENERATE_OPENAPI}`, ''].join('\n');
  const doc = new Document(buildAdminOpenApi(), { aliasDuplicateObjects: false });
  visit(doc, {
    Seq(_, node) {
      const width = node.items.reduce<number>((sum, item) => sum + (isScalar(item) ? String(item.value).length + 2 : Infinity), 0);
      if (width <= 100) node.flow = true;
    },
  });
  return banner + doc.toString({ lineWidth: 0 });
}
