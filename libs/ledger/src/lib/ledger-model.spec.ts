// Property-based test of the ledger's script semantics, 1,000+ runs, on a unit-level model: the TypeScript below
// transliterates POST_SCRIPT / HOLD_SCRIPT / CLOSE_SCRIPT (scripts.ts) statement by statement over in-memory
// maps, and is driven the way the service drives Redis: two instances racing on the same payments (duplicates,
// redeliveries), replies lost after the script ran (ioredis re-sends the script), scripts refused before they ran
// (connection cut, OOM), and invalid postings that the script must reject before its first write. After every
// step: every merchant's balances in every currency sum to 0, and no transaction is half-posted (each posting
// is in exactly one batch, each batch equals the sum of its postings, each account equals the sum of its batches).
// ledger.int-spec.ts runs the same generator against the real scripts in Redis.
import fc from 'fast-check';
import { batchId, batchWindow, cursorField } from './batch-id';
import { computeFee } from './fees';

type Decision = 'REVIEW' | 'DECLINE';

interface Batch {
  id: string;
  currency: string;
  seq: number;
  field: string;
  state: 'open' | 'closed';
  gross: bigint;
  fees: bigint;
  net: bigint;
  count: number;
  payments: Set<string>;
}

class ScriptError extends Error {}

/** One merchant's keys (every script touches one merchant's slot). */
class MerchantModel {
  postings = new Map<string, { amount: bigint; fee: bigint; net: bigint; batchId: string; currency: string }>();
  accounts = new Map<string, bigint>(); // `${account}:${currency}`
  batches = new Map<string, Batch>();
  cursors = new Map<string, number>();
  held = new Map<string, Decision>();
  unreported = new Set<string>();

  private add(key: string, by: bigint): void {
    this.accounts.set(key, (this.accounts.get(key) ?? 0n) + by);
  }

  /** POST_SCRIPT, live mode. */
  post(a: { pid: string; amount: string; fee: string; net: string; currency: string; seq: number; field: string; bid: string; maxSize: number }): { kind: string; seq?: number } {
    if (this.postings.has(a.pid)) return { kind: 'DUPLICATE' };
    if (!/^[1-9][0-9]*$/.test(a.amount) || a.amount.length > 16) throw new ScriptError('amount');
    if (!/^(0|[1-9][0-9]*)$/.test(a.fee) || !/^(0|[1-9][0-9]*)$/.test(a.net)) throw new ScriptError('fee/net');
    const amount = BigInt(a.amount);
    const fee = BigInt(a.fee);
    const net = BigInt(a.net);
    if (amount > 10n ** 15n || fee + net !== amount) throw new ScriptError('unbalanced');
    if (this.held.get(a.pid) === 'DECLINE') return { kind: 'DECLINED' };
    if (this.held.get(a.pid) === 'REVIEW') return { kind: 'IN_REVIEW' }; // the model's approvals are automatic ones
    const batch = this.batches.get(a.bid);
    const cursor = this.cursors.get(a.field) ?? 1;
    if (cursor !== a.seq) return { kind: 'STALE_BATCH', seq: cursor };
    if (batch && batch.state !== 'open') {
      this.cursors.set(a.field, a.seq + 1);
      return { kind: 'STALE_BATCH', seq: a.seq + 1 };
    }
    // writes
    this.postings.set(a.pid, { amount, fee, net, batchId: a.bid, currency: a.currency });
    this.add(`clearing:${a.currency}`, -amount);
    this.add(`merchant_payable:${a.currency}`, net);
    this.add(`fee_revenue:${a.currency}`, fee);
    const b = batch ?? { id: a.bid, currency: a.currency, seq: a.seq, field: a.field, state: 'open' as const, gross: 0n, fees: 0n, net: 0n, count: 0, payments: new Set<string>() };
    this.batches.set(a.bid, b);
    b.gross += amount;
    b.fees += fee;
    b.net += net;
    b.count += 1;
    b.payments.add(a.pid);
    this.held.delete(a.pid);
    if (b.state === 'open' && b.count >= a.maxSize) {
      b.state = 'closed';
      this.unreported.add(b.id);
      if ((this.cursors.get(a.field) ?? 1) <= a.seq) this.cursors.set(a.field, a.seq + 1);
    }
    return { kind: 'POSTED' };
  }

  /** HOLD_SCRIPT */
  hold(pid: string, decision: Decision): string {
    if (this.postings.has(pid)) return 'ALREADY_POSTED';
    if (this.held.get(pid) === 'DECLINE') return 'HELD';
    this.held.set(pid, decision);
    return 'HELD';
  }

  /** CLOSE_SCRIPT */
  close(bid: string): string {
    const b = this.batches.get(bid);
    if (!b) return 'UNKNOWN';
    if (b.state !== 'open') return 'ALREADY_CLOSED';
    b.state = 'closed';
    this.unreported.add(bid);
    if ((this.cursors.get(b.field) ?? 1) <= b.seq) this.cursors.set(b.field, b.seq + 1);
    return 'CLOSED';
  }
}

/** What the service does around the scripts: the postLive loop with a per-instance cursor hint. */
class Instance {
  private readonly hint = new Map<string, number>();
  constructor(private readonly ledger: Map<string, MerchantModel>) {}

  merchant(m: string): MerchantModel {
    const found = this.ledger.get(m) ?? new MerchantModel();
    this.ledger.set(m, found);
    return found;
  }

  postLive(op: PostOp, fault: Fault): string {
    const window = batchWindow(op.screenedAtMs, 3600);
    const field = cursorField(op.currency, window);
    let seq = this.hint.get(`${op.merchant}:${field}`) ?? 1;
    const fee = op.corrupt ? computeFee(op.amount, 150, 10) + 1n : computeFee(op.amount, 150, 10);
    for (let i = 0; i < 8; i++) {
      const args = { pid: op.pid, amount: op.amount.toString(), fee: fee.toString(), net: (op.amount - computeFee(op.amount, 150, 10)).toString(), currency: op.currency, seq, field, bid: batchId(op.merchant, op.currency, window, seq), maxSize: 3 };
      if (fault === 'refused') throw new Error('connection cut before the script ran'); // nothing written
      let r: { kind: string; seq?: number };
      try {
        r = this.merchant(op.merchant).post(args);
        // reply lost after the script ran: ioredis re-sends the same script
        if (fault === 'reply-lost') r = this.merchant(op.merchant).post(args);
      } catch (err) {
        if (err instanceof ScriptError) return 'REJECTED';
        throw err;
      }
      if (r.kind !== 'STALE_BATCH') return r.kind;
      seq = r.seq ?? 1;
      this.hint.set(`${op.merchant}:${field}`, seq);
    }
    throw new Error('stale forever');
  }
}

interface PostOp {
  kind: 'post';
  instance: 0 | 1;
  pid: string;
  merchant: string;
  currency: string;
  amount: bigint;
  screenedAtMs: number;
  corrupt: boolean;
}
type Fault = 'none' | 'reply-lost' | 'refused';
type Op = (PostOp & { fault: Fault }) | { kind: 'hold'; pid: string; merchant: string; decision: Decision } | { kind: 'close'; merchant: string; slot: number };

const payments = fc.array(
  fc.record({
    pid: fc.uuid(),
    merchant: fc.constantFrom('m-a', 'm-b.eu'),
    currency: fc.constantFrom('EUR', 'JPY'),
    amount: fc.bigInt({ min: 1n, max: 10n ** 12n }),
    screenedAtMs: fc.integer({ min: 0, max: 3 }).map((h) => Date.UTC(2026, 10, 29, 10 + h, 5)),
  }),
  { minLength: 1, maxLength: 12 },
);

export const ledgerOps = payments.chain((ps) =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ p: fc.constantFrom(...ps), instance: fc.constantFrom<0 | 1>(0, 1), fault: fc.constantFrom<Fault>('none', 'none', 'reply-lost', 'refused'), corrupt: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) }).map(({ p, instance, fault, corrupt }): Op => ({ kind: 'post', instance, fault, corrupt, ...p })) },
      { weight: 2, arbitrary: fc.record({ p: fc.constantFrom(...ps), decision: fc.constantFrom<Decision>('REVIEW', 'DECLINE') }).map(({ p, decision }): Op => ({ kind: 'hold', pid: p.pid, merchant: p.merchant, decision })) },
      { weight: 1, arbitrary: fc.record({ merchant: fc.constantFrom('m-a', 'm-b.eu'), slot: fc.nat(20) }).map(({ merchant, slot }): Op => ({ kind: 'close', merchant, slot })) },
    ),
    { minLength: 1, maxLength: 40 },
  ),
);

function assertConsistent(ledger: Map<string, MerchantModel>): void {
  for (const [m, model] of ledger) {
    const currencies = new Set([...model.accounts.keys()].map((k) => k.split(':')[1] ?? ''));
    for (const c of currencies) {
      const sum = ['clearing', 'merchant_payable', 'fee_revenue'].reduce((s, a) => s + (model.accounts.get(`${a}:${c}`) ?? 0n), 0n);
      expect({ m, c, sum }).toEqual({ m, c, sum: 0n });
      const batches = [...model.batches.values()].filter((b) => b.currency === c);
      expect(-(model.accounts.get(`clearing:${c}`) ?? 0n)).toBe(batches.reduce((s, b) => s + b.gross, 0n));
    }
    const seen = new Set<string>();
    for (const b of model.batches.values()) {
      let gross = 0n;
      for (const pid of b.payments) {
        expect(seen.has(pid)).toBe(false);
        seen.add(pid);
        const p = model.postings.get(pid);
        expect(p?.batchId).toBe(b.id);
        gross += p?.amount ?? 0n;
      }
      expect(b.gross).toBe(gross);
      expect(b.count).toBe(b.payments.size);
      expect(b.count).toBeLessThanOrEqual(3);
    }
    expect(seen.size).toBe(model.postings.size);
    for (const pid of model.held.keys()) expect(model.postings.has(pid)).toBe(false);
  }
}

describe('ledger script semantics (model)', () => {
  it('keeps balances at zero and never half-posts, under duplicates, lost replies, refused and invalid scripts', () => {
    fc.assert(
      fc.property(ledgerOps, (ops) => {
        const ledger = new Map<string, MerchantModel>();
        const instances = [new Instance(ledger), new Instance(ledger)] as const;
        const declined = new Set<string>();
        const posted = new Set<string>();
        for (const op of ops) {
          if (op.kind === 'post') {
            const wasPosted = instances[0].merchant(op.merchant).postings.has(op.pid);
            let outcome: string;
            try {
              outcome = instances[op.instance].postLive(op, op.fault);
            } catch {
              outcome = 'REFUSED';
            }
            const nowPosted = instances[0].merchant(op.merchant).postings.has(op.pid);
            if (nowPosted && !wasPosted) {
              // posted by this call: a lost reply shows it as DUPLICATE to the caller, never twice in the ledger
              expect(['POSTED', 'DUPLICATE']).toContain(outcome);
              expect(declined.has(op.pid)).toBe(false);
              expect(op.corrupt).toBe(false);
              posted.add(op.pid);
            } else {
              expect(outcome).not.toBe('POSTED');
            }
            if (op.corrupt) expect(['REJECTED', 'DUPLICATE', 'DECLINED', 'REFUSED']).toContain(outcome);
          } else if (op.kind === 'hold') {
            const model = instances[0].merchant(op.merchant);
            if (model.hold(op.pid, op.decision) === 'HELD' && op.decision === 'DECLINE') declined.add(op.pid);
          } else {
            const model = instances[0].merchant(op.merchant);
            const ids = [...model.batches.keys()];
            const id = ids[op.slot % Math.max(ids.length, 1)];
            if (id) {
              const before = model.batches.get(id)?.state;
              const first = model.close(id);
              expect(model.close(id)).toBe(before === 'open' ? 'ALREADY_CLOSED' : first); // closing twice closes once
            }
          }
          assertConsistent(ledger);
        }
        for (const m of ledger.values()) for (const pid of m.postings.keys()) expect(posted.has(pid)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });
});
