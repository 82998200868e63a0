// Reading UPSTREAMS_DIR: one `<upstream-id>.json` per upstream (docs/upstreams.md, "Registration"). Parsed strictly
// and without I/O beyond reading the files, so that the same checks run at boot (a bad directory stops ingest,
// naming the file, field, kid and upstreams) and on every reload (a bad file is refused, the rest keeps working).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '@payrail/config';
import { MerchantIdSchema } from '@payrail/contracts';

/** A registration is a few public keys and a merchant list: anything larger is a mistake (or an attack). */
export const REGISTRATION_MAX_BYTES = 256 * 1024;

/** JWK members that only a private or symmetric key has: a registration carries public keys only. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const PublicJwkSchema = z
  .strictObject({
    kty: z.enum(['EC', 'OKP', 'RSA']),
    kid: z.string().min(1).max(256),
    crv: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    n: z.string().optional(),
    e: z.string().optional(),
    use: z.literal('sig').optional(),
    alg: z.string().optional(),
    key_ops: z.array(z.literal('verify')).optional(),
  })
  .describe('a public signing key (JWK)');

/** Private members are named as such before the strict check would call them merely "unrecognized". */
const JwkSchema = z.unknown().superRefine((jwk, ctx) => {
  if (typeof jwk !== 'object' || jwk === null) return;
  const found = PRIVATE_JWK_MEMBERS.filter((m) => m in jwk);
  if (found.length) ctx.addIssue({ code: 'custom', message: `private key member(s) ${found.join(', ')}: register the public key only`, abort: true });
}).pipe(PublicJwkSchema);

export const RegistrationSchema = z.strictObject({
  upstream_id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and "-" (2-63)'),
  jwks: z.strictObject({ keys: z.array(JwkSchema).min(1).max(16) }),
  algorithms: z.array(z.enum(['ES256', 'EdDSA', 'PS256'])).min(1).default(['ES256', 'EdDSA']),
  /** The merchants this upstream may pay: a payment to any other merchant is refused, naming it. */
  merchants: z.array(MerchantIdSchema).min(1).max(10_000),
  /** Per-upstream rate limit over all ingest instances; DEFAULT_RATE_LIMIT_* when absent. */
  limits: z
    .strictObject({
      requests_per_second: z.number().int().min(1).max(100_000),
      burst: z.number().int().min(1).max(100_000),
    })
    .optional(),
});
export type Registration = z.output<typeof RegistrationSchema>;

export interface RegistrationProblem {
  file: string;
  reason: string;
}

/** A file of UPSTREAMS_DIR: its name, its bytes, and its size when it was too large to read. */
export interface RegistrationFile {
  file: string;
  bytes: Buffer;
  size?: number;
}

export interface RegistrationSet {
  /** Valid registrations by upstream id, kid collisions removed. */
  registrations: Map<string, Registration>;
  problems: RegistrationProblem[];
}

function issueText(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const where = i.path.map(String).join('.') || '(root)';
      return i.code === 'unrecognized_keys' ? `${where}: unknown field(s) ${i.keys.join(', ')}` : `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Parses one registration file's bytes, bound to its file name. */
export function parseRegistration({ file, bytes, size = bytes.length }: RegistrationFile): Registration | RegistrationProblem {
  if (size > REGISTRATION_MAX_BYTES) return { file, reason: `${size} bytes, over the ${REGISTRATION_MAX_BYTES}-byte limit` };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { file, reason: `not JSON (${(err as Error).message})` };
  }
  const parsed = RegistrationSchema.safeParse(json);
  if (!parsed.success) return { file, reason: issueText(parsed.error) };
  if (file !== `${parsed.data.upstream_id}.json`) return { file, reason: `upstream_id ${parsed.data.upstream_id} must be registered in ${parsed.data.upstream_id}.json` };
  return parsed.data;
}

/**
 * Parses every registration and resolves kid claims. A kid claimed by two upstreams is refused for the newcomer:
 * the upstream in `incumbents` (kid -> upstream id, the registry currently served) keeps it, and the other
 * registration is refused as a whole. Without an incumbent (at boot) both are refused: ingest will not start.
 */
export function resolveRegistrations(files: RegistrationFile[], incumbents: ReadonlyMap<string, string> = new Map()): RegistrationSet {
  const problems: RegistrationProblem[] = [];
  const parsed: Registration[] = [];
  for (const f of [...files].sort((a, b) => a.file.localeCompare(b.file))) {
    const r = parseRegistration(f);
    if ('reason' in r) problems.push(r);
    else parsed.push(r);
  }
  const claims = new Map<string, string[]>();
  for (const r of parsed) for (const jwk of r.jwks.keys) claims.set(jwk.kid, [...new Set([...(claims.get(jwk.kid) ?? []), r.upstream_id])]);
  const refused = new Set<string>();
  for (const [kid, owners] of claims) {
    if (owners.length < 2) continue;
    const incumbent = incumbents.get(kid);
    const keeps = incumbent !== undefined && owners.includes(incumbent) ? incumbent : undefined;
    for (const owner of owners) {
      if (owner === keeps) continue;
      refused.add(owner);
      problems.push({ file: `${owner}.json`, reason: `kid ${kid} is claimed by upstreams ${owners.join(' and ')}${keeps ? `; it stays with ${keeps}` : ''}` });
    }
  }
  const registrations = new Map(parsed.filter((r) => !refused.has(r.upstream_id)).map((r) => [r.upstream_id, r]));
  return { registrations, problems };
}

/** Reads UPSTREAMS_DIR (only `*.json`; a file over the cap is not read past it). */
export function readRegistrationFiles(dir: string): RegistrationFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const path = join(dir, file);
      const size = statSync(path).size;
      return size > REGISTRATION_MAX_BYTES ? { file, bytes: Buffer.alloc(0), size } : { file, bytes: readFileSync(path) };
    });
}

/** At boot every registration must be valid: ingest refuses to start, naming each file and what is wrong with it. */
export function checkUpstreamRegistrations(dir: string): void {
  let files: RegistrationFile[];
  try {
    files = readRegistrationFiles(dir);
  } catch (err) {
    throw new ConfigError([{ variable: 'UPSTREAMS_DIR', reason: `cannot read ${dir}: ${(err as Error).message}` }]);
  }
  const { problems } = resolveRegistrations(files);
  if (problems.length) throw new ConfigError(problems.map((p) => ({ variable: 'UPSTREAMS_DIR', reason: `${p.file}: ${p.reason}` })));
}
