import { PaymentInstruction, PaymentScreened } from '@payrail/contracts';
import { ReviewSummary } from './review-queue.store';

/** What an analyst sees: the decision and the instruction's facts, never card or account numbers. */
export function reviewSummary(instruction: PaymentInstruction, screened: PaymentScreened): ReviewSummary {
  const { payer } = instruction;
  return {
    payment_id: instruction.payment_id,
    upstream_id: instruction.upstream_id,
    merchant_id: instruction.payee.merchant_id,
    mcc: instruction.payee.mcc,
    amount: instruction.amount,
    payer:
      payer.type === 'card'
        ? { type: 'card', fingerprint: payer.fingerprint, masked: payer.masked, bin: payer.bin, country: payer.country }
        : { type: 'account', fingerprint: payer.fingerprint, masked: payer.masked, country: payer.country },
    context: instruction.context,
    accepted_at: instruction.accepted_at,
    score: screened.score,
    reasons: screened.reasons,
    ruleset_version: screened.ruleset_version,
    screened_at: screened.screened_at,
  };
}
