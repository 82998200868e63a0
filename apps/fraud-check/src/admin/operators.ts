// Operators of the admin API and their bearer tokens. Tokens are random (256 bits) and stored only as SHA-256
// hashes (a fast hash is enough for a high-entropy secret; passwords would need scrypt): the credentials file is
// a Kubernetes Secret mounted as a file (FRAUD_OPERATORS_FILE) or the same JSON in FRAUD_OPERATORS.
//   { "operators": [ { "id": "a.smith", "role": "write", "token_sha256": "<64 hex>" } ] }
// Roles: "read" lists blocklists, reviews, audit and rules; "write" may also change blocklists and decide reviews.
import { z } from 'zod';
import { FRAUD_OPERATOR_TOKEN_PREFIX, bearerTokenSha256, newBearerToken } from '@payrail/crypto';
import type { OperatorRole } from '../audit/audit-log';

export const OperatorSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits, ".", "_", "@" or "-" (at most 64)'),
  role: z.enum(['read', 'write']),
  token_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the token (64 lower-case hex digits)'),
});

export const OperatorsFileSchema = z
  .strictObject({ operators: z.array(OperatorSchema) })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    const hashes = new Set<string>();
    file.operators.forEach((o, i) => {
      if (ids.has(o.id)) ctx.addIssue({ code: 'custom', path: ['operators', i, 'id'], message: `duplicate operator id ${o.id}` });
      if (hashes.has(o.token_sha256)) ctx.addIssue({ code: 'custom', path: ['operators', i, 'token_sha256'], message: 'two operators share a token' });
      ids.add(o.id);
      hashes.add(o.token_sha256);
    });
  });
export type OperatorsFile = z.infer<typeof OperatorsFileSchema>;

export interface Operator {
  id: string;
  role: OperatorRole;
}

export const hashToken = bearerTokenSha256;

/** A new operator token (shown once) and the line to put in the operators file. */
export function newOperatorToken(id: string, role: OperatorRole): { token: string; operator: z.infer<typeof OperatorSchema> } {
  const { token, sha256 } = newBearerToken(FRAUD_OPERATOR_TOKEN_PREFIX);
  return { token, operator: OperatorSchema.parse({ id, role, token_sha256: sha256 }) };
}

export class OperatorDirectory {
  private readonly byHash: Map<string, Operator>;

  constructor(operators: OperatorsFile['operators']) {
    this.byHash = new Map(operators.map((o) => [o.token_sha256, { id: o.id, role: o.role }]));
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The operator whose token the Authorization header carries (`Bearer <token>`), or undefined. */
  authenticate(authorization: string | undefined): Operator | undefined {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization?.trim() ?? '');
    if (!match?.[1]) return undefined;
    // looked up by the hash of what was presented: timing can only reveal how a SHA-256 of the caller's own
    // guess compares with stored hashes, which says nothing about any token
    return this.byHash.get(hashToken(match[1]));
  }
}

export function mayPerform(operator: Operator, required: OperatorRole): boolean {
  return required === 'read' || operator.role === 'write';
}
