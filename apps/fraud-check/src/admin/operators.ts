// Consumers of the admin API (people and services) and their bearer tokens. Tokens are random (256 bits) and
// stored only as SHA-256 hashes (a fast hash is enough for a high-entropy secret; passwords would need scrypt): the
// credentials file is a Kubernetes Secret mounted as a file (FRAUD_OPERATORS_FILE) or the same JSON in
// FRAUD_OPERATORS.
//   { "operators": [ { "id": "a.smith", "role": "write", "token_sha256": "<64 hex>" },
//                    { "id": "console", "scopes": ["reviews:read", "reviews:decide", "act-for-operators"], "token_sha256": "<64 hex>" } ] }
// Each token carries scopes; a role is shorthand: "read" = every :read scope, "write" = those plus reviews:decide
// and blocklist:write. act-for-operators (never implied by a role) lets a service name the person it acts for
// (X-Payrail-On-Behalf-Of): the audit and the decision then record "<token id>:<person>".
import { z } from 'zod';
import { TokenHolderIdSchema, TokenSha256Schema, uniqueTokenHolders } from '@payrail/contracts';
import { BearerTokenDirectory, FRAUD_OPERATOR_TOKEN_PREFIX, bearerTokenSha256, newBearerToken } from '@payrail/crypto';
import type { OperatorRole } from '../audit/audit-log';

export const READ_SCOPES = ['reviews:read', 'blocklist:read', 'audit:read', 'rules:read'] as const;
export const WRITE_SCOPES = ['reviews:decide', 'blocklist:write'] as const;
export const ON_BEHALF_SCOPE = 'act-for-operators';
/** The header an act-for-operators caller names its person in. */
export const ON_BEHALF_HEADER = 'x-payrail-on-behalf-of';
export const SCOPES = [...READ_SCOPES, ...WRITE_SCOPES, ON_BEHALF_SCOPE] as const;
export type AdminScope = (typeof SCOPES)[number];

const ROLE_SCOPES: Record<OperatorRole, readonly AdminScope[]> = { read: READ_SCOPES, write: [...READ_SCOPES, ...WRITE_SCOPES] };

export const OperatorIdSchema = TokenHolderIdSchema;

export const OperatorSchema = z
  .strictObject({
    id: OperatorIdSchema,
    role: z.enum(['read', 'write']).optional(),
    scopes: z.array(z.enum(SCOPES)).min(1, 'needs at least one scope').optional(),
    token_sha256: TokenSha256Schema,
  })
  .refine((o) => (o.role === undefined) !== (o.scopes === undefined), { message: 'give either role (read|write) or scopes, not both', path: ['scopes'] });

export const OperatorsFileSchema = z
  .strictObject({ operators: z.array(OperatorSchema) })
  .superRefine((file, ctx) => uniqueTokenHolders('operators', 'operator')(file.operators, ctx));
export type OperatorsFile = z.infer<typeof OperatorsFileSchema>;
export type OperatorLine = OperatorsFile['operators'][number];

export interface Operator {
  /** Who the audit and decisions name: the token's id, or "<token id>:<person>" when acting for someone. */
  id: string;
  /** Recorded in the audit: write when any scope changes something. */
  role: OperatorRole;
  scopes: ReadonlySet<AdminScope>;
}

export const hashToken = bearerTokenSha256;

export function scopesOf(line: Pick<OperatorLine, 'role' | 'scopes'>): ReadonlySet<AdminScope> {
  return new Set(line.scopes ?? ROLE_SCOPES[line.role ?? 'read']);
}

function operatorOf(line: OperatorLine): Operator {
  const scopes = scopesOf(line);
  return { id: line.id, role: WRITE_SCOPES.some((s) => scopes.has(s)) ? 'write' : 'read', scopes };
}

/** A new operator token (shown once) and the line to put in the operators file. */
export function newOperatorToken(id: string, access: OperatorRole | readonly AdminScope[]): { token: string; operator: OperatorLine } {
  const { token, sha256 } = newBearerToken(FRAUD_OPERATOR_TOKEN_PREFIX);
  const grant = typeof access === 'string' ? { role: access } : { scopes: [...access] };
  return { token, operator: OperatorSchema.parse({ id, ...grant, token_sha256: sha256 }) };
}

/** The operator whose token an Authorization header carries (`Bearer <token>`), or undefined. */
export class OperatorDirectory extends BearerTokenDirectory<Operator> {
  constructor(operators: readonly OperatorLine[]) {
    super(operators.map((o) => [o.token_sha256, operatorOf(o)] as const));
  }
}

export function mayPerform(operator: Pick<Operator, 'scopes'>, required: AdminScope): boolean {
  return operator.scopes.has(required);
}
