// The lines of an operators' API credentials file (fraud-check's FRAUD_OPERATORS_FILE, settlement's
// SETTLEMENT_API_CLIENTS_FILE): who holds a bearer token, stored only as the token's SHA-256.
import { z } from 'zod';

/** A token holder's id, as the audit and the logs name it. */
export const TokenHolderIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits, ".", "_", "@" or "-" (at most 64)');

/** The hex SHA-256 of a bearer token. */
export const TokenSha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the token (64 lower-case hex digits)');

/**
 * A credentials file's list of holders under `key`, refused when two lines share an id or a token: a shared token
 * would make one holder act under the other's name.
 */
export function uniqueTokenHolders<Holder extends { id: string; token_sha256: string }>(key: string, noun: string) {
  return (holders: readonly Holder[], ctx: z.RefinementCtx): void => {
    const ids = new Set<string>();
    const hashes = new Set<string>();
    holders.forEach((h, i) => {
      if (ids.has(h.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate ${noun} id ${h.id}` });
      if (hashes.has(h.token_sha256)) ctx.addIssue({ code: 'custom', path: [key, i, 'token_sha256'], message: `two ${noun}s share a token` });
      ids.add(h.id);
      hashes.add(h.token_sha256);
    });
  };
}
