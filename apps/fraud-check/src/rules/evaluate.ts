// Evaluating a rule set: a pure function of the rule set, the payment instruction and the signals gathered for it
// (velocity, blocklist hits). Each rule that fires adds its score and a reason with what it observed; the total
// decides APPROVE / REVIEW / DECLINE by the set's thresholds. Amounts compare as bigint, never as numbers.
import { Decision, DecisionReason, PaymentInstruction, UpstreamReasonCode } from '@payrail/contracts';
import { BlocklistHit } from '../blocklist/blocklist';
import { VelocityDimension, VelocityObservation } from '../velocity/velocity';
import { Rule, RuleSet } from './ruleset';

export interface FraudSignals {
  /** What each of the payment's dimension values did recently (absent when the payment has no such value). */
  velocity: Partial<Record<VelocityDimension, VelocityObservation>>;
  blocklistHits: BlocklistHit[];
}

export const NO_SIGNALS: FraudSignals = { velocity: {}, blocklistHits: [] };

export interface Verdict {
  decision: Decision;
  score: number;
  reasons: DecisionReason[];
  rulesetVersion: string;
}

type Observed = NonNullable<DecisionReason['observed']>;

export function payerDimension(payment: PaymentInstruction): 'card' | 'account' {
  return payment.payer.type;
}

/** What an upstream is told when a rule of this type fires (the code, never the rule id or what it observed). */
const UPSTREAM_REASON_CODE = {
  amount_limit: 'amount_limit',
  blocked_bin: 'blocklisted',
  blocklist: 'blocklisted',
  velocity: 'velocity_limit',
  card_testing: 'card_testing',
  first_payee: 'first_payee',
  country_mismatch: 'country_mismatch',
  duplicate: 'duplicate',
} as const satisfies Record<Rule['type'], UpstreamReasonCode>;

export function decide(ruleset: RuleSet, score: number): Decision {
  return score >= ruleset.thresholds.decline ? 'DECLINE' : score >= ruleset.thresholds.review ? 'REVIEW' : 'APPROVE';
}

export function evaluate(ruleset: RuleSet, payment: PaymentInstruction, signals: FraudSignals = NO_SIGNALS): Verdict {
  const reasons: DecisionReason[] = [];
  for (const rule of ruleset.rules) {
    const observed = check(rule, payment, signals);
    if (observed) reasons.push({ rule: rule.id, code: UPSTREAM_REASON_CODE[rule.type], score: rule.score, observed });
  }
  const score = reasons.reduce((sum, r) => sum + r.score, 0);
  return { decision: decide(ruleset, score), score, reasons, rulesetVersion: ruleset.version };
}

/** What the rule observed when it fires, undefined when it does not. */
function check(rule: Rule, payment: PaymentInstruction, signals: FraudSignals): Observed | undefined {
  const { amount } = payment;
  const minor = BigInt(amount.minor);
  switch (rule.type) {
    case 'amount_limit': {
      if (rule.mcc && !rule.mcc.includes(payment.payee.mcc)) return undefined;
      const limit = rule.limits[amount.currency];
      if (limit === undefined || minor <= BigInt(limit)) return undefined;
      const observed: Observed = { amount_minor: amount.minor, limit_minor: limit, currency: amount.currency };
      if (rule.mcc) observed['mcc'] = payment.payee.mcc;
      return observed;
    }
    case 'blocked_bin': {
      // a listed prefix matches every card whose shown leading digits start with it
      const payer = payment.payer;
      return payer.type === 'card' && rule.bins.some((prefix) => payer.bin.startsWith(prefix)) ? { bin: payer.bin } : undefined;
    }
    case 'blocklist': {
      const hit = signals.blocklistHits.find((h) => h.list === rule.list);
      return hit ? { list: hit.list, value: hit.value, field: hit.field } : undefined;
    }
    case 'velocity': {
      const totals = signals.velocity[rule.dimension]?.windows[rule.window];
      if (!totals) return undefined;
      const sumLimit = rule.max_sum?.[amount.currency];
      const overCount = rule.max_count !== undefined && totals.count > rule.max_count;
      const overSum = sumLimit !== undefined && totals.sumMinor > BigInt(sumLimit);
      if (!overCount && !overSum) return undefined;
      const observed: Observed = { window: rule.window, count: totals.count };
      if (rule.max_count !== undefined) observed['max_count'] = rule.max_count;
      if (sumLimit !== undefined) Object.assign(observed, { sum_minor: totals.sumMinor.toString(), max_sum_minor: sumLimit, currency: amount.currency });
      return observed;
    }
    case 'card_testing': {
      const totals = signals.velocity[rule.dimension]?.windows[rule.window];
      if (!totals) return undefined;
      const overPayers = rule.max_distinct_payers !== undefined && totals.distinctPayers > rule.max_distinct_payers;
      const overSmall = rule.max_small_payments !== undefined && totals.smallPayments > rule.max_small_payments;
      if (!overPayers && !overSmall) return undefined;
      const observed: Observed = { window: rule.window, distinct_payers: totals.distinctPayers, small_payments: totals.smallPayments };
      if (rule.max_distinct_payers !== undefined) observed['max_distinct_payers'] = rule.max_distinct_payers;
      if (rule.max_small_payments !== undefined) observed['max_small_payments'] = rule.max_small_payments;
      return observed;
    }
    case 'first_payee': {
      const observation = signals.velocity[payerDimension(payment)];
      const limit = rule.limits[amount.currency];
      if (!observation?.firstPaymentToPayee || limit === undefined || minor <= BigInt(limit)) return undefined;
      return { merchant_id: payment.payee.merchant_id, amount_minor: amount.minor, limit_minor: limit, currency: amount.currency };
    }
    case 'country_mismatch': {
      const ipCountry = payment.context?.country;
      const payerCountry = payment.payer.country;
      if (!ipCountry || !payerCountry || ipCountry === payerCountry || !rule.payer_types.includes(payment.payer.type)) return undefined;
      return { ip_country: ipCountry, payer_country: payerCountry, payer_type: payment.payer.type };
    }
    case 'duplicate': {
      const observation = signals.velocity[payerDimension(payment)];
      const earlier = observation?.duplicateOf;
      const at = Date.parse(payment.accepted_at);
      if (!earlier || at - earlier.atMs > rule.within_s * 1000) return undefined;
      return { duplicate_of: earlier.paymentId, ms_apart: at - earlier.atMs, within_s: rule.within_s };
    }
  }
}
