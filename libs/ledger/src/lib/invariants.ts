// The ledger's invariants that Redis alone can prove, checked by the service periodically and by
// `payrail settlement check`:
//   - balance_sum: each merchant's accounts in each currency sum to zero (so each currency ledger-wide does);
//   - batch_totals: each batch's gross, fees, net and count equal the sums over its postings;
//   - posted_twice: a payment appears in one batch only and its posting names that batch;
//   - accounts_vs_batches: each account equals the sum of the merchant's batches in that currency;
//   - held_posted: a payment held as REVIEW or DECLINE has no posting.
// What needs Kafka (every approved payment posted exactly once, none declined or in review posted) is in
// reconcile.ts.
import { ACCOUNTS } from './keys';
import { LedgerRepository } from './ledger.repository';

export type InvariantName = 'balance_sum' | 'batch_totals' | 'posted_twice' | 'accounts_vs_batches' | 'held_posted';

export interface InvariantViolation {
  invariant: InvariantName;
  merchantId: string;
  currency?: string;
  batchId?: string;
  paymentId?: string;
  detail: string;
}

export interface InvariantReport {
  ok: boolean;
  merchants: number;
  batches: number;
  postings: number;
  /** Per currency, over all merchants: the sum of every balance (0 when the ledger is balanced). */
  currencySums: Record<string, string>;
  violations: InvariantViolation[];
}

export async function checkInvariants(ledger: LedgerRepository): Promise<InvariantReport> {
  const violations: InvariantViolation[] = [];
  const currencySums = new Map<string, bigint>();
  let batchCount = 0;
  let postingCount = 0;
  const merchants = await ledger.merchants();
  for (const m of merchants) {
    const balances = await ledger.balances(m);
    const fromBatches = new Map<string, { gross: bigint; fees: bigint; net: bigint }>();
    const postedIn = new Map<string, string>();
    for (const id of await ledger.batchIds(m)) {
      const batch = await ledger.batch(m, id);
      if (!batch) {
        violations.push({ invariant: 'batch_totals', merchantId: m, batchId: id, detail: 'indexed batch has no state' });
        continue;
      }
      batchCount++;
      const paymentIds = await ledger.batchPaymentIds(m, id);
      const postings = await ledger.postings(m, paymentIds);
      let gross = 0n;
      let fees = 0n;
      let net = 0n;
      for (const pid of paymentIds) {
        const p = postings.get(pid);
        const other = postedIn.get(pid);
        if (other !== undefined) violations.push({ invariant: 'posted_twice', merchantId: m, paymentId: pid, batchId: id, detail: `also in batch ${other}` });
        postedIn.set(pid, id);
        if (!p) {
          violations.push({ invariant: 'batch_totals', merchantId: m, batchId: id, paymentId: pid, detail: 'batch lists a payment without a posting' });
          continue;
        }
        if (p.batchId !== id) violations.push({ invariant: 'posted_twice', merchantId: m, batchId: id, paymentId: pid, detail: `posting names batch ${p.batchId}` });
        if (p.currency !== batch.currency) violations.push({ invariant: 'batch_totals', merchantId: m, batchId: id, paymentId: pid, detail: `posting in ${p.currency}, batch in ${batch.currency}` });
        gross += p.amount;
        fees += p.fee;
        net += p.net;
      }
      postingCount += postings.size;
      const expected = `count ${paymentIds.length} gross ${gross} fees ${fees} net ${net}`;
      const actual = `count ${batch.count} gross ${batch.gross} fees ${batch.fees} net ${batch.net}`;
      if (expected !== actual) violations.push({ invariant: 'batch_totals', merchantId: m, currency: batch.currency, batchId: id, detail: `batch says ${actual}, its postings sum to ${expected}` });
      const sums = fromBatches.get(batch.currency) ?? { gross: 0n, fees: 0n, net: 0n };
      fromBatches.set(batch.currency, { gross: sums.gross + batch.gross, fees: sums.fees + batch.fees, net: sums.net + batch.net });
    }
    for (const b of balances) {
      const sum = ACCOUNTS.reduce((s, a) => s + b[a], 0n);
      currencySums.set(b.currency, (currencySums.get(b.currency) ?? 0n) + sum);
      if (sum !== 0n) violations.push({ invariant: 'balance_sum', merchantId: m, currency: b.currency, detail: `clearing ${b.clearing} + merchant_payable ${b.merchant_payable} + fee_revenue ${b.fee_revenue} = ${sum}` });
      const s = fromBatches.get(b.currency) ?? { gross: 0n, fees: 0n, net: 0n };
      if (-b.clearing !== s.gross || b.merchant_payable !== s.net || b.fee_revenue !== s.fees) {
        violations.push({ invariant: 'accounts_vs_batches', merchantId: m, currency: b.currency, detail: `accounts (clearing ${b.clearing}, payable ${b.merchant_payable}, fees ${b.fee_revenue}) vs batches (gross ${s.gross}, net ${s.net}, fees ${s.fees})` });
      }
    }
    const held = await ledger.held(m);
    const heldIds = Object.keys(held);
    const heldPostings = await ledger.postings(m, heldIds);
    for (const pid of heldIds) {
      if (heldPostings.has(pid) || postedIn.has(pid)) violations.push({ invariant: 'held_posted', merchantId: m, paymentId: pid, detail: `payment held as ${held[pid]} has a posting` });
    }
  }
  return {
    ok: violations.length === 0,
    merchants: merchants.length,
    batches: batchCount,
    postings: postingCount,
    currencySums: Object.fromEntries([...currencySums].sort().map(([c, s]) => [c, s.toString()])),
    violations,
  };
}
