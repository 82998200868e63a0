// Consumers of the operators API (the console, people, tools), each with its own bearer token, stored only as its
// SHA-256, in SETTLEMENT_API_CLIENTS_FILE (a mounted Secret) or SETTLEMENT_API_CLIENTS (the same JSON):
//   {"clients":[{"id":"console","scopes":["ledger:read"],"token_sha256":"<64 hex>"}]}
// Every route of the API today only reads (batches, balances, invariants) and needs ledger:read; a route that
// changes something will need a scope of its own, given to the consumers that need it only.
import { z } from 'zod';
import { TokenHolderIdSchema, TokenSha256Schema, uniqueTokenHolders } from '@payrail/contracts';
import { BearerTokenDirectory, SETTLEMENT_API_TOKEN_PREFIX, newBearerToken } from '@payrail/crypto';

export const API_SCOPES = ['ledger:read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const ApiClientSchema = z.strictObject({
  id: TokenHolderIdSchema,
  scopes: z.array(z.enum(API_SCOPES)).min(1, 'needs at least one scope'),
  token_sha256: TokenSha256Schema,
});
export type ApiClientLine = z.infer<typeof ApiClientSchema>;

export const ApiClientsFileSchema = z.strictObject({ clients: z.array(ApiClientSchema).min(1, 'needs at least one client') }).superRefine((file, ctx) => uniqueTokenHolders('clients', 'client')(file.clients, ctx));

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
