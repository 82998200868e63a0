// The services' domain metrics, next to the messaging ones (prometheus-metrics.ts) and named the same way:
// `payrail_` prefix, `_total` counters, snake_case labels whose values are bounded (decisions, rule ids, currencies,
// outcomes, key states), never payment, merchant or key ids. Each service registers its own set on its registry
// (MessagingRuntime.metrics.registry, served at GET /metrics); deploy/observability alerts and charts on them.
import { Counter, Gauge, type Registry } from 'prom-client';

export const DOMAIN_METRIC_NAMES = {
  fraudDecisions: 'payrail_fraud_decisions_total',
  fraudRuleHits: 'payrail_fraud_rule_hits_total',
  signatureFailures: 'payrail_signature_verification_failures_total',
  ledgerPostings: 'payrail_ledger_postings_total',
  batchCloses: 'payrail_settlement_batch_closes_total',
  invariantViolations: 'payrail_ledger_invariant_violations',
  keyRotationEvents: 'payrail_signing_key_rotation_events_total',
  signingKeys: 'payrail_signing_keys',
  operatorAccessRefused: 'payrail_operator_access_refused_total',
  ingestThrottled: 'payrail_ingest_requests_throttled_total',
} as const;

/** Where operators come in: the console's sign-in and actions, fraud-check's admin API, settlement's operators API. */
export type OperatorSurface = 'console' | 'fraud_admin' | 'settlement_api';
/** Why a request was refused before anyone was authenticated (or was refused as cross-origin). */
export type AccessRefusal = 'denied' | 'throttled' | 'unauthenticated' | 'cross_origin';

/**
 * Refused, unauthenticated requests on the operator surfaces: counted here, never written into the operators'
 * audit trail (which keeps authenticated operators' actions only, so a flood of failures cannot evict them).
 */
export class OperatorAccessMetrics {
  private readonly refused: Counter<'surface' | 'reason'>;

  constructor(registry: Registry) {
    this.refused = new Counter({
      name: DOMAIN_METRIC_NAMES.operatorAccessRefused,
      help: 'Requests to an operator surface refused before authentication: wrong credentials (denied, unauthenticated), backoff or the per-address failed-authentication throttle (throttled), foreign origin (cross_origin).',
      labelNames: ['surface', 'reason'],
      registers: [registry],
    });
  }

  refusedAccess(surface: OperatorSurface, reason: AccessRefusal): void {
    this.refused.inc({ surface, reason });
  }

  /** A request the per-address failed-authentication throttle refused (429) before any token was compared. */
  throttled(surface: OperatorSurface): void {
    this.refusedAccess(surface, 'throttled');
  }
}

/**
 * ingest: requests answered 429 by the per-address throttle before any signature was verified, by route
 * (submit, status) and by the budget that ran out (attempts: all requests; failures: failed authentications).
 */
export type IngestThrottledRoute = 'submit' | 'status';

export class IngestThrottleMetrics {
  private readonly throttledRequests: Counter<'route' | 'budget'>;

  constructor(registry: Registry) {
    this.throttledRequests = new Counter({
      name: DOMAIN_METRIC_NAMES.ingestThrottled,
      help: 'Requests refused 429 by the per-client-address throttle before signature verification, by route (submit, status) and budget (attempts, failures).',
      labelNames: ['route', 'budget'],
      registers: [registry],
    });
  }

  throttled(route: IngestThrottledRoute, budget: 'attempts' | 'failures'): void {
    this.throttledRequests.inc({ route, budget });
  }
}

export const LEDGER_INVARIANTS = ['balance_sum', 'posted_twice', 'held_posted', 'batch_totals', 'accounts_vs_batches'] as const;
export const SIGNING_KEY_STATES = ['active', 'verify-only', 'retired'] as const;
export type SigningKeyState = (typeof SIGNING_KEY_STATES)[number];

/** A payment instruction whose Payrail signature did not verify, by the stage that checked it. */
export class SignatureMetrics {
  private readonly failures: Counter<'document'>;

  constructor(registry: Registry) {
    this.failures = new Counter({
      name: DOMAIN_METRIC_NAMES.signatureFailures,
      help: 'Signatures that did not verify, by signed document (payment_instruction, event_seal): tampering, or a key retired too early.',
      labelNames: ['document'],
      registers: [registry],
    });
  }

  verificationFailed(document: 'payment_instruction' | 'event_seal'): void {
    this.failures.inc({ document });
  }
}

/** fraud-check: each decision taken (once per payment) and the rules that contributed to it. */
export class FraudMetrics extends SignatureMetrics {
  private readonly decisions: Counter<'decision'>;
  private readonly ruleHits: Counter<'rule' | 'decision'>;

  constructor(registry: Registry) {
    super(registry);
    const registers = [registry];
    this.decisions = new Counter({ name: DOMAIN_METRIC_NAMES.fraudDecisions, help: 'Screening decisions taken (a redelivery is not counted again), by decision.', labelNames: ['decision'], registers });
    this.ruleHits = new Counter({
      name: DOMAIN_METRIC_NAMES.fraudRuleHits,
      help: 'Rules that fired in a screening decision, by rule id and the decision they led to.',
      labelNames: ['rule', 'decision'],
      registers,
    });
  }

  decided(decision: 'APPROVE' | 'REVIEW' | 'DECLINE', rules: readonly string[]): void {
    this.decisions.inc({ decision });
    for (const rule of new Set(rules)) this.ruleHits.inc({ rule, decision });
  }
}

/** settlement: postings, batch closes, the ledger invariants' last check, and failed signature checks. */
export class SettlementMetrics extends SignatureMetrics {
  private readonly postings: Counter<'currency' | 'outcome'>;
  private readonly closes: Counter<'reason'>;
  private readonly violations: Gauge<'invariant'>;

  constructor(registry: Registry) {
    super(registry);
    const registers = [registry];
    this.postings = new Counter({
      name: DOMAIN_METRIC_NAMES.ledgerPostings,
      help: 'Approved payments posted to the ledger, by currency and outcome: posted (new) or duplicate (a redelivery found the posting).',
      labelNames: ['currency', 'outcome'],
      registers,
    });
    this.closes = new Counter({ name: DOMAIN_METRIC_NAMES.batchCloses, help: 'Settlement batches closed, by reason: size (the posting that filled it) or cutoff (its window ended).', labelNames: ['reason'], registers });
    this.violations = new Gauge({
      name: DOMAIN_METRIC_NAMES.invariantViolations,
      help: `Ledger invariant violations found by the last check, by invariant (${LEDGER_INVARIANTS.join(', ')}).`,
      labelNames: ['invariant'],
      registers,
    });
  }

  posted(currency: string, outcome: 'posted' | 'duplicate'): void {
    this.postings.inc({ currency, outcome });
  }

  batchClosed(reason: 'size' | 'cutoff', count = 1): void {
    this.closes.inc({ reason }, count);
  }

  invariantsChecked(violations: readonly { invariant: string }[]): void {
    for (const invariant of LEDGER_INVARIANTS) this.violations.set({ invariant }, violations.filter((v) => v.invariant === invariant).length);
  }
}

/**
 * signing: what each key file reload changed (a kid added, a key made active, a key retired or dropped from the
 * file) and how many keys are in each state now (read at scrape time: a key carried over a rotation retires when
 * its overlap ends, without a reload).
 */
export class SigningKeyMetrics {
  private readonly events: Counter<'event'>;

  constructor(registry: Registry, keyStates: () => ReadonlyMap<string, SigningKeyState>) {
    const registers = [registry];
    this.events = new Counter({
      name: DOMAIN_METRIC_NAMES.keyRotationEvents,
      help: 'Signing key changes seen on a key file reload, by event: added (a new kid), activated (a kid became the signing key), retired (a kid retired or left the file).',
      labelNames: ['event'],
      registers,
    });
    new Gauge({
      name: DOMAIN_METRIC_NAMES.signingKeys,
      help: 'Signing keys loaded, by state (active signs; verify-only and retired are kept for verification and audit).',
      labelNames: ['state'],
      registers,
      collect() {
        const states = [...keyStates().values()];
        for (const state of SIGNING_KEY_STATES) this.set({ state }, states.filter((s) => s === state).length);
      },
    });
  }

  /** Counts the events between two snapshots of kid -> state (before and after a reload). */
  reloaded(before: ReadonlyMap<string, SigningKeyState>, after: ReadonlyMap<string, SigningKeyState>): void {
    for (const [kid, state] of after) {
      const previous = before.get(kid);
      if (previous === undefined) this.events.inc({ event: 'added' });
      if (state === 'active' && previous !== 'active') this.events.inc({ event: 'activated' });
      if (state === 'retired' && previous !== undefined && previous !== 'retired') this.events.inc({ event: 'retired' });
    }
    for (const [kid, previous] of before) if (!after.has(kid) && previous !== 'retired') this.events.inc({ event: 'retired' });
  }
}
