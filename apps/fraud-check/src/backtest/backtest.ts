// Backtesting a candidate rule set: replay payments through the current and the candidate set, each with its own
// in-memory velocity state (never the live Redis state), and compare the decisions. Payments are replayed in
// the order they were accepted, so velocity, duplicates and first payments to a payee evolve as they did.
import { Decision, DecisionReason, PaymentInstruction } from '@payrail/contracts';
import { BlocklistReader } from '../blocklist/blocklist';
import { FraudEngine } from '../engine/fraud-engine';
import { Verdict } from '../rules/evaluate';
import { RuleSet } from '../rules/ruleset';
import { InMemoryVelocityStore } from '../velocity/in-memory-velocity.store';

export const DECISIONS: readonly Decision[] = ['APPROVE', 'REVIEW', 'DECLINE'];

export interface BacktestSide {
  version: string;
  decisions: Record<Decision, number>;
  /** How often each rule fired. */
  rule_hits: Record<string, number>;
}

export interface BacktestExample {
  payment_id: string;
  accepted_at: string;
  merchant_id: string;
  amount: PaymentInstruction['amount'];
  current: { decision: Decision; score: number; reasons: DecisionReason[] };
  candidate: { decision: Decision; score: number; reasons: DecisionReason[] };
}

export interface BacktestResult {
  payments: number;
  from?: string;
  to?: string;
  current: BacktestSide;
  candidate: BacktestSide;
  /** transitions[current][candidate] = number of payments. */
  transitions: Record<Decision, Record<Decision, number>>;
  changed: number;
  /** Payments whose decision stayed the same but whose score changed. */
  rescored: number;
  /** Up to `examplesPerTransition` payments for each changed (current -> candidate) pair. */
  examples: BacktestExample[];
}

export interface BacktestOptions {
  current: RuleSet;
  candidate: RuleSet;
  blocklists: BlocklistReader;
  examplesPerTransition?: number;
}

/** Sorts by acceptance time (then payment id) and drops repeated payment ids (redeliveries on a topic). */
export function replayOrder(payments: Iterable<PaymentInstruction>): PaymentInstruction[] {
  const unique = new Map<string, PaymentInstruction>();
  for (const p of payments) if (!unique.has(p.payment_id)) unique.set(p.payment_id, p);
  return [...unique.values()].sort((a, b) => Date.parse(a.accepted_at) - Date.parse(b.accepted_at) || (a.payment_id < b.payment_id ? -1 : a.payment_id > b.payment_id ? 1 : 0));
}

export async function runBacktest(payments: Iterable<PaymentInstruction>, options: BacktestOptions): Promise<BacktestResult> {
  const perTransition = options.examplesPerTransition ?? 5;
  const engines = {
    current: new FraudEngine(new InMemoryVelocityStore(), options.blocklists),
    candidate: new FraudEngine(new InMemoryVelocityStore(), options.blocklists),
  };
  const side = (ruleset: RuleSet): BacktestSide => ({ version: ruleset.version, decisions: { APPROVE: 0, REVIEW: 0, DECLINE: 0 }, rule_hits: {} });
  const result: BacktestResult = {
    payments: 0,
    current: side(options.current),
    candidate: side(options.candidate),
    transitions: Object.fromEntries(DECISIONS.map((d) => [d, { APPROVE: 0, REVIEW: 0, DECLINE: 0 }])) as BacktestResult['transitions'],
    changed: 0,
    rescored: 0,
    examples: [],
  };
  const tally = (s: BacktestSide, v: Verdict) => {
    s.decisions[v.decision]++;
    for (const r of v.reasons) s.rule_hits[r.rule] = (s.rule_hits[r.rule] ?? 0) + 1;
  };
  const shown = new Map<string, number>();

  for (const payment of replayOrder(payments)) {
    const current = await engines.current.screen(options.current, payment);
    await engines.current.decided(payment, current.decision, current.payeeKnown);
    const candidate = await engines.candidate.screen(options.candidate, payment);
    await engines.candidate.decided(payment, candidate.decision, candidate.payeeKnown);

    result.payments++;
    result.from ??= payment.accepted_at;
    result.to = payment.accepted_at;
    tally(result.current, current);
    tally(result.candidate, candidate);
    result.transitions[current.decision][candidate.decision]++;
    if (current.decision === candidate.decision) {
      if (current.score !== candidate.score) result.rescored++;
      continue;
    }
    result.changed++;
    const pair = `${current.decision}->${candidate.decision}`;
    if ((shown.get(pair) ?? 0) < perTransition) {
      shown.set(pair, (shown.get(pair) ?? 0) + 1);
      result.examples.push({
        payment_id: payment.payment_id,
        accepted_at: payment.accepted_at,
        merchant_id: payment.payee.merchant_id,
        amount: payment.amount,
        current: { decision: current.decision, score: current.score, reasons: current.reasons },
        candidate: { decision: candidate.decision, score: candidate.score, reasons: candidate.reasons },
      });
    }
  }
  return result;
}
