// The declarative rule set (apps/fraud-check/rules/ruleset.json): what each rule looks at, its threshold and its
// score. Pure data, validated with zod when loaded (at boot, on every reload and by the backtest). A rule set is
// identified by its `version`: every decision records it, and a reload that changes the content without a new
// version is refused (see RuleSetProvider), so one version always names one content.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CurrencyCodeSchema, MccSchema } from '@payrail/contracts';
import { canonicalJson } from '@payrail/crypto';
import { BLOCKLISTS } from '../blocklist/blocklist';
import { VELOCITY_WINDOWS, VelocityWindow } from '../velocity/velocity';

const MinorUnits = z.string().regex(/^(0|[1-9][0-9]{0,15})$/, 'must be integer minor units as a decimal string, e.g. "1050"');
/** Limits per ISO 4217 currency; a payment in a currency the rule does not list is not checked by it. */
const LimitsPerCurrency = z.partialRecord(CurrencyCodeSchema, MinorUnits).refine((l) => Object.keys(l).length > 0, 'name at least one currency');
const RuleId = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-" (at most 64)');
const Score = z.number().int().min(0).max(1000);
const Window = z.enum(Object.keys(VELOCITY_WINDOWS) as [VelocityWindow, ...VelocityWindow[]]);

const base = { id: RuleId, score: Score, description: z.string().max(300).optional() };

export const AmountLimitRule = z.strictObject({
  ...base,
  type: z.literal('amount_limit'),
  /** Fires when the amount exceeds the limit of its currency. */
  limits: LimitsPerCurrency,
  /** Only for these merchant category codes (ISO 18245); every category when absent. */
  mcc: z.array(MccSchema).min(1).optional(),
});

export const BlockedBinRule = z.strictObject({ ...base, type: z.literal('blocked_bin'), bins: z.array(z.string().regex(/^[0-9]{1,5}$/, 'must be 1-5 leading digits: events carry only the digits a mask shows (4 of a 16-digit card)')) });

export const BlocklistRule = z.strictObject({
  ...base,
  type: z.literal('blocklist'),
  /** Which operator-maintained list (Redis, admin API) to look the payment up in. */
  list: z.enum(BLOCKLISTS),
});

export const VelocityRule = z
  .strictObject({
    ...base,
    type: z.literal('velocity'),
    /** Whose payments are counted: the card (fingerprint), the payer account (fingerprint), the IP or the device. */
    dimension: z.enum(['card', 'account', 'ip', 'device']),
    window: Window,
    /** Fires when more than this many payments (this one included) fall in the window. */
    max_count: z.number().int().min(0).optional(),
    /** Fires when the payments in the window, in this payment's currency, add up to more than the limit. */
    max_sum: LimitsPerCurrency.optional(),
  })
  .refine((r) => r.max_count !== undefined || r.max_sum !== undefined, 'set max_count, max_sum or both');

export const CardTestingRule = z
  .strictObject({
    ...base,
    type: z.literal('card_testing'),
    dimension: z.enum(['ip', 'device']),
    window: Window,
    /** Fires when more distinct cards or accounts than this paid from the IP/device in the window. */
    max_distinct_payers: z.number().int().min(1).optional(),
    /** Fires when more small payments (rule set `small_amount`) than this came from the IP/device in the window. */
    max_small_payments: z.number().int().min(1).optional(),
  })
  .refine((r) => r.max_distinct_payers !== undefined || r.max_small_payments !== undefined, 'set max_distinct_payers, max_small_payments or both');

export const FirstPayeeRule = z.strictObject({
  ...base,
  type: z.literal('first_payee'),
  /** Fires when the payer never had a payment to this merchant approved before and the amount exceeds the limit. */
  limits: LimitsPerCurrency,
});

export const CountryMismatchRule = z.strictObject({
  ...base,
  type: z.literal('country_mismatch'),
  /** Fires when the IP's country (context.country) differs from the card's or the payer account's country. */
  payer_types: z.array(z.enum(['card', 'account'])).min(1).default(['card', 'account']),
});

export const DuplicateRule = z.strictObject({
  ...base,
  type: z.literal('duplicate'),
  /** Fires when the same payer paid the same merchant the same amount (and currency) at most this long before. */
  within_s: z.number().int().min(1).max(86_400),
});

export const RuleSchema = z.discriminatedUnion('type', [
  AmountLimitRule,
  BlockedBinRule,
  BlocklistRule,
  VelocityRule,
  CardTestingRule,
  FirstPayeeRule,
  CountryMismatchRule,
  DuplicateRule,
]);
export type Rule = z.infer<typeof RuleSchema>;

export const RuleSetSchema = z
  .strictObject({
    version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/, 'letters, digits, ".", "_", ":", "+" or "-" (at most 64)'),
    description: z.string().max(500).optional(),
    thresholds: z
      .strictObject({ review: z.number().int().min(1), decline: z.number().int().min(1) })
      .refine((t) => t.review <= t.decline, 'review threshold must not exceed decline'),
    /** What counts as a small payment for card testing; recorded with each payment when it is screened. */
    small_amount: LimitsPerCurrency.optional(),
    rules: z.array(RuleSchema),
  })
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id ${rule.id}` });
      seen.add(rule.id);
      if (rule.type === 'card_testing' && rule.max_small_payments !== undefined && !set.small_amount) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'max_small_payments'], message: 'needs the rule set small_amount' });
      }
    });
  });
export type RuleSet = z.infer<typeof RuleSetSchema>;

/** A loaded rule set and the hash of its canonical content (what "one version, one content" is checked on). */
export interface LoadedRuleSet {
  readonly ruleset: RuleSet;
  readonly sha256: string;
}

export class RuleSetError extends Error {
  override readonly name = 'RuleSetError';
}

/** Parses rule set JSON text; throws RuleSetError naming the first bad field. */
export function parseRuleSet(text: string, source: string): LoadedRuleSet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RuleSetError(`${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = RuleSetSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RuleSetError(`${source}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid rule set'}`);
  }
  return { ruleset: parsed.data, sha256: createHash('sha256').update(canonicalJson(parsed.data)).digest('hex') };
}

/** How far back the duplicate rules look (0 when the set has none): the velocity store's lookup span. */
export function duplicateLookbackMs(ruleset: RuleSet): number {
  return ruleset.rules.reduce((max, r) => (r.type === 'duplicate' ? Math.max(max, r.within_s * 1000) : max), 0);
}
