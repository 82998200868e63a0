// What the screened topic says should be in the ledger, replayed with the same rules as the scripts: the first
// APPROVE posts (unless the payment was declined before: a decline is final; or is held in REVIEW and the
// approval is not an analyst's: a review is released by an analyst only); REVIEW and DECLINE hold a payment that
// is not posted; anything after a posting changes nothing. Events of one payment share its merchant's key,
// so they arrive in order on one partition.
import type { PaymentScreened } from '@payrail/contracts';

export type DecisionState = { kind: 'approved'; event: PaymentScreened } | { kind: 'held'; decision: 'REVIEW' | 'DECLINE'; merchantId: string };

export class DecisionLog {
  readonly payments = new Map<string, DecisionState>();
  approved = 0;
  /** An APPROVE for a payment declined before it (the posting script refuses it). */
  approvedAfterDecline: PaymentScreened[] = [];
  /** A DECLINE for a payment already approved and posted (never undone by settlement). */
  declinedAfterApproval: PaymentScreened[] = [];
  /** An automatic APPROVE for a payment held in REVIEW (the posting script refuses it: only an analyst releases it). */
  approvedDuringReview: PaymentScreened[] = [];

  apply(event: PaymentScreened): void {
    const prev = this.payments.get(event.payment_id);
    if (prev?.kind === 'approved') {
      if (event.decision === 'DECLINE') this.declinedAfterApproval.push(event);
      return;
    }
    if (event.decision === 'APPROVE') {
      if (prev?.decision === 'DECLINE') {
        this.approvedAfterDecline.push(event);
        return;
      }
      if (prev?.decision === 'REVIEW' && !event.review) {
        this.approvedDuringReview.push(event);
        return;
      }
      this.payments.set(event.payment_id, { kind: 'approved', event });
      this.approved++;
      return;
    }
    if (prev?.decision === 'DECLINE') return;
    this.payments.set(event.payment_id, { kind: 'held', decision: event.decision, merchantId: event.merchant_id });
  }

  approvedEvents(): PaymentScreened[] {
    const out: PaymentScreened[] = [];
    for (const s of this.payments.values()) if (s.kind === 'approved') out.push(s.event);
    return out;
  }
}
