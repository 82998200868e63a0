// What the console knows from watching the topics (framework-free): payments per stage and outcome, throughput per
// stage over the last 60 s, fraud decisions and the rules behind them, REVIEW payments still waiting, settlement
// batches and totals, which signing keys are in use, dead letters and security alerts. Counters start when the
// console starts (it reads the live topics from their end); repeated events (redelivery, a payment signed twice)
// are counted once.
import {
  DEAD_LETTER_TOPICS,
  DLQ_HEADERS,
  CE_HEADERS,
  EventOf,
  ServiceName,
  TOPICS,
  formatDecimal,
  money,
} from '@payrail/contracts';
import type { ObservedMessage } from '@payrail/messaging';
import { RecentKeys, SlidingWindow } from './sliding-window';

export type Stage = ServiceName;
export const STAGES: readonly Stage[] = ['ingest', 'signing', 'fraud-check', 'settlement'];

export interface AmountView {
  readonly minor: string;
  readonly currency: string;
  /** Decimal in the currency's exponent, e.g. "12.50" (no locale grouping). */
  readonly display: string;
}

export interface StageView {
  readonly outcomes: Record<string, number>;
  /** Events out of the stage per second, averaged over the window. */
  readonly perSecond: number;
  /** Events per second, oldest first, one entry per second of the window. */
  readonly series: number[];
}

export interface PaymentEventView {
  readonly payment_id: string;
  readonly stage: Stage;
  readonly outcome: string;
  readonly at: string;
  readonly merchant_id?: string;
  readonly amount?: AmountView;
}

export interface ObservedReview {
  readonly payment_id: string;
  readonly merchant_id: string;
  readonly amount: AmountView;
  readonly score: number;
  readonly rules: string[];
  readonly screened_at: string;
}

export interface BatchView {
  readonly batch_id: string;
  readonly merchant_id: string;
  /** closed: settlement reported it; signed: signing published it signed (with kid). */
  readonly status: 'closed' | 'signed';
  readonly kid?: string;
  /** The batch report's totals (absent when only the signed batch was seen). */
  readonly report?: {
    readonly currency: string;
    readonly payments: number;
    readonly gross: AmountView;
    readonly fees: AmountView;
    readonly net: AmountView;
    readonly closed_at: string;
    readonly close_reason: string;
  };
}

export interface SettledTotalsView {
  readonly currency: string;
  readonly payments: number;
  readonly gross: AmountView;
  readonly fees: AmountView;
  readonly net: AmountView;
}

export interface KeyUseView {
  readonly kid: string;
  readonly signs: 'payment instructions' | 'settlement reports';
  readonly count: number;
  readonly last_seen: string;
}

export interface DeadLetterView {
  /** Its place in the dead-letter topic, `topic/partition/offset` (what replay takes). */
  readonly ref: string;
  readonly stage: Stage;
  readonly dead_lettered_at: string;
  readonly original_topic?: string;
  readonly original_partition?: string;
  readonly original_offset?: string;
  readonly error_class?: string;
  readonly error_message?: string;
  readonly attempts?: string;
  readonly consumer_group?: string;
  readonly event_type?: string;
  readonly correlation_id?: string;
}

export interface AlertView {
  readonly alert: string;
  readonly service: string;
  readonly payment_id?: string;
  readonly kid?: string;
  readonly detail: string;
  readonly raised_at: string;
}

export interface FlowView {
  readonly since: string;
  readonly window_s: number;
  readonly stages: Record<Stage, StageView>;
  readonly rejections: { reason: string; count: number }[];
  readonly fraud: {
    readonly decisions: Record<'APPROVE' | 'REVIEW' | 'DECLINE', number>;
    readonly analyst: Record<'APPROVE' | 'DECLINE', number>;
    readonly topRules: { rule: string; count: number }[];
    readonly rulesetVersions: string[];
  };
  readonly recent: PaymentEventView[];
  readonly reviewsObserved: ObservedReview[];
  readonly settlement: { readonly totals: SettledTotalsView[]; readonly batches: BatchView[] };
  readonly keysInUse: KeyUseView[];
  readonly deadLetters: { readonly seen: Record<Stage, number>; readonly recent: DeadLetterView[] };
  readonly alerts: { readonly counts: Record<string, number>; readonly recent: AlertView[] };
  readonly undecodable: Record<string, number>;
}

const RECENT_PAYMENTS = 30;
const RECENT_BATCHES = 25;
const RECENT_DEAD_LETTERS = 50;
const MERCHANTS_KEPT = 100;
const RECENT_ALERTS = 20;
const TOP_RULES = 10;
const MAX_OBSERVED_REVIEWS = 500;

const STAGE_BY_DLQ = new Map((Object.entries(DEAD_LETTER_TOPICS) as [Stage, string][]).map(([stage, topic]) => [topic, stage]));

export function amountView(m: { minor: string; currency: string }): AmountView {
  return { minor: m.minor, currency: m.currency, display: formatDecimal(money(m.minor, m.currency)) };
}

interface Totals {
  payments: number;
  gross: bigint;
  fees: bigint;
  net: bigint;
}

export class FlowStatistics {
  private readonly since: string;
  private readonly outcomes = new Map<Stage, Map<string, number>>(STAGES.map((s) => [s, new Map<string, number>()]));
  private readonly throughput = new Map<Stage, SlidingWindow>();
  private readonly seen = new RecentKeys();
  private readonly rejections = new Map<string, number>();
  private readonly decisions = { APPROVE: 0, REVIEW: 0, DECLINE: 0 };
  private readonly analyst = { APPROVE: 0, DECLINE: 0 };
  private readonly rules = new Map<string, number>();
  private readonly rulesets = new Set<string>();
  private readonly recent: PaymentEventView[] = [];
  private readonly reviews = new Map<string, ObservedReview>();
  private readonly totals = new Map<string, Totals>();
  private readonly batches = new Map<string, BatchView>();
  private readonly kids = new Map<string, KeyUseView>();
  private readonly deadLetters = new Map<string, DeadLetterView>();
  private readonly deadLettersSeen = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  private readonly alertCounts = new Map<string, number>();
  private readonly alerts: AlertView[] = [];
  private readonly undecodable = new Map<string, number>();
  private readonly merchants = new Map<string, true>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowSeconds = 60,
  ) {
    this.since = new Date(now()).toISOString();
    for (const stage of STAGES) this.throughput.set(stage, new SlidingWindow(windowSeconds));
  }

  record(message: ObservedMessage): void {
    const deadLetterStage = STAGE_BY_DLQ.get(message.topic);
    if (deadLetterStage) return this.recordDeadLetter(deadLetterStage, message);
    if (!message.event) {
      if (message.undecodable !== undefined) this.undecodable.set(message.topic, (this.undecodable.get(message.topic) ?? 0) + 1);
      return;
    }
    const at = message.event.envelope.time;
    switch (message.topic) {
      case TOPICS.paymentsAccepted.name: {
        const e = message.event.data as EventOf<'paymentsAccepted'>;
        if (!this.seen.firstSeen(`accepted:${e.payment_id}`)) return;
        this.count('ingest', 'accepted', { payment_id: e.payment_id, stage: 'ingest', outcome: 'accepted', at, merchant_id: e.payee.merchant_id, amount: amountView(e.amount) });
        return;
      }
      case TOPICS.paymentsRejected.name: {
        const e = message.event.data as EventOf<'paymentsRejected'>;
        if (!this.seen.firstSeen(`rejected:${message.event.envelope.id}`)) return;
        this.rejections.set(e.reason, (this.rejections.get(e.reason) ?? 0) + 1);
        this.count('ingest', 'rejected');
        return;
      }
      case TOPICS.paymentsSigned.name: {
        const e = message.event.data as EventOf<'paymentsSigned'>;
        this.useKey(e.kid, 'payment instructions', at);
        if (!this.seen.firstSeen(`signed:${e.payment_id}`)) return;
        this.count('signing', 'signed', { payment_id: e.payment_id, stage: 'signing', outcome: 'signed', at });
        return;
      }
      case TOPICS.paymentsScreened.name:
        return this.recordScreened(message.event.data as EventOf<'paymentsScreened'>, at);
      case TOPICS.paymentsSettled.name: {
        const e = message.event.data as EventOf<'paymentsSettled'>;
        if (!this.seen.firstSeen(`settled:${e.payment_id}`)) return;
        const t = this.totals.get(e.amount.currency) ?? { payments: 0, gross: 0n, fees: 0n, net: 0n };
        t.payments += 1;
        t.gross += BigInt(e.amount.minor);
        t.fees += BigInt(e.fee.minor);
        t.net += BigInt(e.net.minor);
        this.totals.set(e.amount.currency, t);
        this.count('settlement', 'settled', { payment_id: e.payment_id, stage: 'settlement', outcome: 'settled', at, merchant_id: e.merchant_id, amount: amountView(e.amount) });
        return;
      }
      case TOPICS.settlementBatchReports.name: {
        const e = message.event.data as EventOf<'settlementBatchReports'>;
        const known = this.batches.get(e.batch_id);
        this.putBatch({
          batch_id: e.batch_id,
          merchant_id: e.merchant_id,
          status: known?.status ?? 'closed',
          kid: known?.kid,
          report: {
            currency: e.currency,
            payments: e.payment_count,
            gross: amountView(e.gross),
            fees: amountView(e.fees),
            net: amountView(e.net),
            closed_at: e.closed_at,
            close_reason: e.close_reason,
          },
        });
        return;
      }
      case TOPICS.settlementBatches.name: {
        const e = message.event.data as EventOf<'settlementBatches'>;
        this.useKey(e.kid, 'settlement reports', at);
        const known = this.batches.get(e.batch_id);
        this.putBatch({ batch_id: e.batch_id, merchant_id: e.merchant_id, report: known?.report, status: 'signed', kid: e.kid });
        return;
      }
      case TOPICS.securityAlerts.name: {
        const e = message.event.data as EventOf<'securityAlerts'>;
        if (!this.seen.firstSeen(`alert:${message.event.envelope.id}`)) return;
        this.alertCounts.set(e.alert, (this.alertCounts.get(e.alert) ?? 0) + 1);
        this.alerts.unshift({ alert: e.alert, service: e.service, payment_id: e.payment_id, kid: e.kid, detail: e.detail, raised_at: e.raised_at });
        this.alerts.length = Math.min(this.alerts.length, RECENT_ALERTS);
        return;
      }
      default:
        return;
    }
  }

  view(): FlowView {
    const nowMs = this.now();
    const stages = {} as Record<Stage, StageView>;
    for (const stage of STAGES) {
      const window = this.throughput.get(stage) ?? new SlidingWindow(this.windowSeconds);
      const series = window.series(nowMs);
      const total = series.reduce((a, b) => a + b, 0);
      stages[stage] = { outcomes: Object.fromEntries(this.outcomes.get(stage) ?? []), perSecond: Math.round((total / this.windowSeconds) * 100) / 100, series };
    }
    const seen = {} as Record<Stage, number>;
    for (const stage of STAGES) seen[stage] = this.deadLettersSeen.get(stage) ?? 0;
    return {
      since: this.since,
      window_s: this.windowSeconds,
      stages,
      rejections: [...this.rejections].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      fraud: {
        decisions: { ...this.decisions },
        analyst: { ...this.analyst },
        topRules: [...this.rules]
          .map(([rule, count]) => ({ rule, count }))
          .sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule))
          .slice(0, TOP_RULES),
        rulesetVersions: [...this.rulesets],
      },
      recent: [...this.recent],
      reviewsObserved: [...this.reviews.values()],
      settlement: {
        totals: [...this.totals]
          .map(([currency, t]) => ({
            currency,
            payments: t.payments,
            gross: amountView({ minor: t.gross.toString(), currency }),
            fees: amountView({ minor: t.fees.toString(), currency }),
            net: amountView({ minor: t.net.toString(), currency }),
          }))
          .sort((a, b) => a.currency.localeCompare(b.currency)),
        batches: [...this.batches.values()].reverse(),
      },
      keysInUse: [...this.kids.values()].sort((a, b) => b.last_seen.localeCompare(a.last_seen)),
      deadLetters: { seen, recent: [...this.deadLetters.values()].sort((a, b) => b.dead_lettered_at.localeCompare(a.dead_lettered_at)).slice(0, RECENT_DEAD_LETTERS) },
      alerts: { counts: Object.fromEntries(this.alertCounts), recent: [...this.alerts] },
      undecodable: Object.fromEntries(this.undecodable),
    };
  }

  private recordScreened(e: EventOf<'paymentsScreened'>, at: string): void {
    const analystDecision = e.review !== undefined && e.decision !== 'REVIEW';
    if (!this.seen.firstSeen(`screened:${e.payment_id}:${analystDecision ? 'analyst' : 'rules'}`)) return;
    this.rulesets.add(e.ruleset_version);
    if (analystDecision) {
      const decision = e.decision === 'APPROVE' ? 'APPROVE' : 'DECLINE';
      this.analyst[decision] += 1;
      this.reviews.delete(e.payment_id);
      this.count('fraud-check', `analyst_${decision.toLowerCase()}`, { payment_id: e.payment_id, stage: 'fraud-check', outcome: `analyst ${decision}`, at, merchant_id: e.merchant_id, amount: amountView(e.amount) });
      return;
    }
    this.decisions[e.decision] += 1;
    for (const reason of e.reasons) this.rules.set(reason.rule, (this.rules.get(reason.rule) ?? 0) + 1);
    if (e.decision === 'REVIEW' && this.reviews.size < MAX_OBSERVED_REVIEWS) {
      this.reviews.set(e.payment_id, { payment_id: e.payment_id, merchant_id: e.merchant_id, amount: amountView(e.amount), score: e.score, rules: e.reasons.map((r) => r.rule), screened_at: e.screened_at });
    }
    this.count('fraud-check', e.decision.toLowerCase(), { payment_id: e.payment_id, stage: 'fraud-check', outcome: e.decision, at, merchant_id: e.merchant_id, amount: amountView(e.amount) });
  }

  private recordDeadLetter(stage: Stage, message: ObservedMessage): void {
    const ref = `${message.topic}/${message.partition}/${message.offset}`;
    if (!this.seen.firstSeen(`dlq:${ref}`)) return;
    this.deadLettersSeen.set(stage, (this.deadLettersSeen.get(stage) ?? 0) + 1);
    const h = message.headers;
    this.deadLetters.set(ref, {
      ref,
      stage,
      dead_lettered_at: new Date(message.timestamp).toISOString(),
      original_topic: h[DLQ_HEADERS.originalTopic],
      original_partition: h[DLQ_HEADERS.originalPartition],
      original_offset: h[DLQ_HEADERS.originalOffset],
      error_class: h[DLQ_HEADERS.errorClass],
      error_message: h[DLQ_HEADERS.errorMessage],
      attempts: h[DLQ_HEADERS.attempts],
      consumer_group: h[DLQ_HEADERS.consumerGroup],
      event_type: h[CE_HEADERS.type],
      correlation_id: h[CE_HEADERS.correlationid],
    });
    // keep the newest ones (dead letters arrive oldest first when the topics are read from the start)
    if (this.deadLetters.size > RECENT_DEAD_LETTERS * 4) {
      const newest = [...this.deadLetters.values()].sort((a, b) => b.dead_lettered_at.localeCompare(a.dead_lettered_at)).slice(0, RECENT_DEAD_LETTERS);
      this.deadLetters.clear();
      for (const d of newest) this.deadLetters.set(d.ref, d);
    }
  }

  private count(stage: Stage, outcome: string, event?: PaymentEventView): void {
    const outcomes = this.outcomes.get(stage);
    outcomes?.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    this.throughput.get(stage)?.add(this.now());
    if (event) {
      this.recent.unshift(event);
      this.recent.length = Math.min(this.recent.length, RECENT_PAYMENTS);
      if (event.merchant_id) {
        // re-inserted: the Map's order is then least to most recently seen
        this.merchants.delete(event.merchant_id);
        this.merchants.set(event.merchant_id, true);
        if (this.merchants.size > MERCHANTS_KEPT) this.merchants.delete(this.merchants.keys().next().value ?? '');
      }
    }
  }

  /** The merchants seen in payments most recently, newest first (whose batches and balances the page shows). */
  recentMerchants(limit: number): string[] {
    return [...this.merchants.keys()].reverse().slice(0, limit);
  }

  private useKey(kid: string, signs: KeyUseView['signs'], at: string): void {
    const id = `${signs}:${kid}`;
    const known = this.kids.get(id);
    this.kids.set(id, { kid, signs, count: (known?.count ?? 0) + 1, last_seen: known && known.last_seen > at ? known.last_seen : at });
  }

  private putBatch(batch: BatchView): void {
    this.batches.delete(batch.batch_id);
    this.batches.set(batch.batch_id, batch);
    if (this.batches.size > RECENT_BATCHES) {
      const oldest = this.batches.keys().next();
      if (!oldest.done) this.batches.delete(oldest.value);
    }
  }
}
