// The declarative rule set: pure evaluation, no I/O. Each rule that fires adds its score and a reason with what
// it observed; the total decides APPROVE / REVIEW / DECLINE by the set's thresholds. Amounts compare as bigint.
import { z } from 'zod';
import { Decision, DecisionReason, PaymentInstruction } from '@payrail/contracts';

const MinorUnits = z.string().regex(/^[0-9]+$/);

const RuleSchema = z.discriminatedUnion('type', [
  z.object({ id: z.string().min(1), type: z.literal('amount_limit'), score: z.number().int(), limits: z.record(z.string().length(3), MinorUnits) }),
  z.object({ id: z.string().min(1), type: z.literal('blocked_bin'), score: z.number().int(), bins: z.array(z.string().regex(/^[0-9]{6}$/)) }),
]);

export const RuleSetSchema = z.object({
  version: z.string().min(1),
  thresholds: z.object({ review: z.number().int(), decline: z.number().int() }).refine((t) => t.review <= t.decline, 'review threshold must not exceed decline'),
  rules: z.array(RuleSchema),
});
export type RuleSet = z.infer<typeof RuleSetSchema>;

export interface Verdict {
  decision: Decision;
  score: number;
  reasons: DecisionReason[];
  rulesetVersion: string;
}

export function evaluate(ruleset: RuleSet, payment: PaymentInstruction): Verdict {
  const reasons: DecisionReason[] = [];
  for (const rule of ruleset.rules) {
    switch (rule.type) {
      case 'amount_limit': {
        const limit = rule.limits[payment.amount.currency];
        if (limit !== undefined && BigInt(payment.amount.minor) > BigInt(limit)) {
          reasons.push({ rule: rule.id, score: rule.score, observed: { amount_minor: payment.amount.minor, limit_minor: limit, currency: payment.amount.currency } });
        }
        break;
      }
      case 'blocked_bin':
        if (payment.payer.type === 'card' && rule.bins.includes(payment.payer.bin)) {
          reasons.push({ rule: rule.id, score: rule.score, observed: { bin: payment.payer.bin } });
        }
        break;
    }
  }
  const score = reasons.reduce((sum, r) => sum + r.score, 0);
  const decision: Decision = score >= ruleset.thresholds.decline ? 'DECLINE' : score >= ruleset.thresholds.review ? 'REVIEW' : 'APPROVE';
  return { decision, score, reasons, rulesetVersion: ruleset.version };
}
