// Consumers of the operators API (the console, people, tools), each with its own bearer token, stored only as its
// SHA-256, in SETTLEMENT_API_CLIENTS_FILE (a mounted Secret) or SETTLEMENT_API_CLIENTS (the same JSON):
//   {"clients":[{"id":"console","scopes":["ledger:read"],"token_sha256":"<64 hex>"}]}
// Every route of the API today only reads (batches, balances, invariants) and needs ledger:read; a route that
// changes something will need a scope of its own, given to the consumers that need it only.
import { z } from 'zod';
import { BearerTokenDirectory, SETTLEMENT_API_TOKEN_PREFIX, newBearerToken } from '@payrail/crypto';

export const API_SCOPES = ['ledger:read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const ApiClientSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits, ".", "_", "@" or "-" (at most 64)'),
  scopes: z.array(z.enum(API_SCOPES)).min(1, 'needs at least one scope'),
  token_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the token (64 lower-case hex digits)'),
});
export type ApiClientLine = z.infer<typeof ApiClientSchema>;

export const ApiClientsFileSchema = z.strictObject({ clients: z.array(ApiClientSchema).min(1, 'needs at least one client') }).superRefine((file, ctx) => {
  const ids = new Set<string>();
  const hashes = new Set<string>();
  file.clients.forEach((c, i) => {
    if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'id'], message: `duplicate client id ${c.id}` });
    if (hashes.has(c.token_sha256)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'token_sha256'], message: 'two clients share a token' });
    ids.add(c.id);
    hashes.add(c.token_sha256);
  });
});

export interface ApiClient {
  readonly id: string;
  readonly scopes: ReadonlySet<ApiScope>;
}

export class ApiClientDirectory extends BearerTokenDirectory<ApiClient> {
  constructor(clients: readonly ApiClientLine[]) {
    super(clients.map((c) => [c.token_sha256, { id: c.id, scopes: new Set(c.scopes) }] as const));
  }
}

/** A new client token (shown once) and its line for the clients file. */
export function newApiClientToken(id: string, scopes: readonly ApiScope[]): { token: string; client: ApiClientLine } {
  const { token, sha256 } = newBearerToken(SETTLEMENT_API_TOKEN_PREFIX);
  return { token, client: ApiClientSchema.parse({ id, scopes: [...scopes], token_sha256: sha256 }) };
}
