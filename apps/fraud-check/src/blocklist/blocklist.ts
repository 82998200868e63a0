// Operator-maintained blocklists: card and payer account (keyed fingerprints, never the numbers), BIN, IP, country,
// merchant.
// Values are normalised the same way when they are added and when a payment is looked up.
import { isIP } from 'node:net';
import { z } from 'zod';
import { CountryCodeSchema, MerchantIdSchema } from '@payrail/contracts';

export const BLOCKLISTS = ['card', 'account', 'bin', 'ip', 'country', 'merchant'] as const;
export type BlocklistName = (typeof BLOCKLISTS)[number];

/** What an entry holds besides its value. */
export interface BlocklistEntry {
  value: string;
  reason?: string;
  added_by: string;
  added_at: string;
}

/** One value of a payment looked up in one list; `field` says where in the payment it came from. */
export interface BlocklistProbe {
  list: BlocklistName;
  value: string;
  field: string;
}

export interface BlocklistHit extends BlocklistProbe {
  reason?: string;
}

/** Port: the screening path reads Redis, backtests a snapshot. */
export interface BlocklistReader {
  find(probes: BlocklistProbe[]): Promise<BlocklistHit[]>;
}

/** Canonical text of an IP address (lower-case, IPv6 compressed, IPv4-mapped IPv6 as IPv4). */
export function normaliseIp(ip: string): string {
  if (isIP(ip) === 4) return ip;
  const url = new URL(`http://[${ip}]/`);
  const host = url.hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped?.[1] && mapped[2]) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return host;
}

function fingerprintValue(what: 'card' | 'account'): z.ZodType<string, string> {
  return z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,128}$/, `must be the ${what}'s keyed fingerprint (base64url, 16-128 characters)`)
    .refine((v) => !looksLikeCardNumber(v), `looks like a ${what} number: block the ${what} by its fingerprint, never its number`);
}

/** Validates and normalises a value for its list (the admin API names the field when it refuses). */
export const BLOCKLIST_VALUE_SCHEMAS: Record<BlocklistName, z.ZodType<string, string>> = {
  card: fingerprintValue('card'),
  account: fingerprintValue('account'),
  bin: z.string().regex(/^[0-9]{1,5}$/, 'must be 1-5 leading digits of the card (events carry only the digits a mask shows: 4 of a 16-digit card)'),
  ip: z
    .string()
    .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address')
    .transform(normaliseIp),
  country: CountryCodeSchema,
  merchant: MerchantIdSchema,
};

/** A card or account number (all digits, or IBAN-shaped) must never become a blocklist value, even by mistake. */
export function looksLikeCardNumber(value: string): boolean {
  return /^[0-9]{12,34}$/.test(value) || /^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$/.test(value);
}

export class InMemoryBlocklists implements BlocklistReader {
  constructor(private readonly lists: Partial<Record<BlocklistName, ReadonlyMap<string, BlocklistEntry>>> = {}) {}

  async find(probes: BlocklistProbe[]): Promise<BlocklistHit[]> {
    const hits: BlocklistHit[] = [];
    for (const probe of probes) {
      const entry = this.lists[probe.list]?.get(probe.value);
      if (entry) hits.push({ ...probe, reason: entry.reason });
    }
    return hits;
  }
}
