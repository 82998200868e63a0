// The rules engine, framework-free: gathers a payment's signals through two ports (velocity, blocklists), then
// evaluates the rule set (pure). The service runs it on Redis; the backtest on in-memory copies.
//
// Every payment is recorded under every dimension value it has (card or payer account, IP, device), whatever the
// rules say, in one store call per dimension value, all sent at once (one Redis round trip when pipelined).
import { PaymentInstruction } from '@payrail/contracts';
import { BlocklistHit, BlocklistProbe, BlocklistReader, normaliseIp } from '../blocklist/blocklist';
import { FraudSignals, Verdict, evaluate, payerDimension } from '../rules/evaluate';
import { RuleSet, duplicateLookbackMs } from '../rules/ruleset';
import { VelocityDimension, VelocityEvent, VelocityObservation, VelocityStore } from '../velocity/velocity';

export interface Screening extends Verdict {
  /** The payer already had a payment to this payee approved (so an approval now records nothing new). */
  payeeKnown: boolean;
}

export class FraudEngine {
  constructor(
    private readonly velocity: VelocityStore,
    private readonly blocklists: BlocklistReader,
  ) {}

  async screen(ruleset: RuleSet, payment: PaymentInstruction): Promise<Screening> {
    return screeningOf(ruleset, payment, await this.gather(ruleset, payment));
  }

  async gather(ruleset: RuleSet, payment: PaymentInstruction): Promise<FraudSignals> {
    const records = velocityRecords(ruleset, payment);
    const [observations, blocklistHits] = await Promise.all([
      Promise.all(records.map(({ dimension, value, event }) => this.velocity.record(dimension, value, event))),
      this.blocklists.find(blocklistProbes(ruleset, payment)),
    ]);
    return signalsOf(records, observations, blocklistHits);
  }

  /** After the decision: an approved payment makes its payee known to the payer (first payment to a payee). */
  async decided(payment: PaymentInstruction, decision: Verdict['decision'], payeeKnown = false): Promise<void> {
    if (decision !== 'APPROVE' || payeeKnown) return;
    await this.velocity.markPayeeKnown(payerDimension(payment), payment.payer.fingerprint, payment.payee.merchant_id, payment.payment_id);
  }
}

export function velocityDimensions(payment: PaymentInstruction): { dimension: VelocityDimension; value: string }[] {
  const out: { dimension: VelocityDimension; value: string }[] = [{ dimension: payerDimension(payment), value: payment.payer.fingerprint }];
  if (payment.context?.ip) out.push({ dimension: 'ip', value: normaliseIp(payment.context.ip) });
  if (payment.context?.device_id) out.push({ dimension: 'device', value: payment.context.device_id });
  return out;
}

/** One velocity store call: a dimension value of the payment and what is recorded under it. */
export interface VelocityRecord {
  dimension: VelocityDimension;
  value: string;
  event: VelocityEvent;
}

/**
 * What the payment records under each of its dimension values, in the order the store is called (payer, IP,
 * device). The per-payment path (gather) and the batch path (screening/screen-batch.ts) both use it, so they
 * record exactly the same thing.
 */
export function velocityRecords(ruleset: RuleSet, payment: PaymentInstruction): VelocityRecord[] {
  const base = velocityEvent(ruleset, payment);
  return velocityDimensions(payment).map(({ dimension, value }) => ({
    dimension,
    value,
    event: {
      ...base,
      // the payer dimension answers payee and duplicate questions; IP and device count distinct payers
      payerFingerprint: dimension === 'ip' || dimension === 'device' ? payment.payer.fingerprint : undefined,
      trackPayees: dimension === 'card' || dimension === 'account',
      duplicateLookbackMs: dimension === 'card' || dimension === 'account' ? base.duplicateLookbackMs : 0,
    },
  }));
}

/** The signals of a payment from the store's answers to its velocityRecords (same order) and its blocklist hits. */
export function signalsOf(records: readonly VelocityRecord[], observations: readonly VelocityObservation[], blocklistHits: BlocklistHit[]): FraudSignals {
  const velocity: Partial<Record<VelocityDimension, VelocityObservation>> = {};
  records.forEach(({ dimension }, i) => {
    const observation = observations[i];
    if (observation) velocity[dimension] = observation;
  });
  return { velocity, blocklistHits };
}

/** The verdict on a payment from its signals (pure). */
export function screeningOf(ruleset: RuleSet, payment: PaymentInstruction, signals: FraudSignals): Screening {
  // the payee is known when another payment of this payer to it was approved: nothing to record after an approval
  return { ...evaluate(ruleset, payment, signals), payeeKnown: signals.velocity[payerDimension(payment)]?.firstPaymentToPayee === false };
}

function velocityEvent(ruleset: RuleSet, payment: PaymentInstruction): Omit<VelocityEvent, 'trackPayees' | 'payerFingerprint'> {
  const amountMinor = BigInt(payment.amount.minor);
  const smallLimit = ruleset.small_amount?.[payment.amount.currency];
  return {
    paymentId: payment.payment_id,
    atMs: Date.parse(payment.accepted_at),
    currency: payment.amount.currency,
    amountMinor,
    payee: payment.payee.merchant_id,
    small: smallLimit !== undefined && amountMinor <= BigInt(smallLimit),
    duplicateLookbackMs: duplicateLookbackMs(ruleset),
  };
}

/** The payment's values in each list a blocklist rule of the set looks at. */
export function blocklistProbes(ruleset: RuleSet, payment: PaymentInstruction): BlocklistProbe[] {
  const lists = new Set(ruleset.rules.flatMap((r) => (r.type === 'blocklist' ? [r.list] : [])));
  const probes: BlocklistProbe[] = [];
  const { payer, payee, context } = payment;
  if (lists.has('card') && payer.type === 'card') probes.push({ list: 'card', value: payer.fingerprint, field: 'payer.fingerprint' });
  if (lists.has('account') && payer.type === 'account') probes.push({ list: 'account', value: payer.fingerprint, field: 'payer.fingerprint' });
  // bin entries are prefixes of the card's shown leading digits: probe each of them ("4", "41", "411", "4111")
  if (lists.has('bin') && payer.type === 'card') for (let n = 1; n <= payer.bin.length; n++) probes.push({ list: 'bin', value: payer.bin.slice(0, n), field: 'payer.bin' });
  if (lists.has('ip') && context?.ip) probes.push({ list: 'ip', value: normaliseIp(context.ip), field: 'context.ip' });
  if (lists.has('country')) {
    if (payer.country) probes.push({ list: 'country', value: payer.country, field: 'payer.country' });
    if (context?.country && context.country !== payer.country) probes.push({ list: 'country', value: context.country, field: 'context.country' });
  }
  if (lists.has('merchant')) probes.push({ list: 'merchant', value: payee.merchant_id, field: 'payee.merchant_id' });
  return probes;
}
