// Everything the page shows, kept current: the flow statistics fed by the observer, and background refreshes of
// consumer lag, signing keys, service health, the REVIEW queue, the ledger and the audit trail. One snapshot is
// built per second and shared by every open page (Server-Sent Events).
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Observable, map, shareReplay, timer } from 'rxjs';
import { signingJwksPlainHttpWarning } from '@payrail/config';
import { AuditEntry, AuditTrail } from '../audit/audit-trail';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { ConsoleRuntime } from '../console.runtime';
import { FlowStatistics, FlowView } from '../flow/flow-statistics';
import { ServiceHealth, ServiceHealthView } from '../health/service-health';
import { CONSOLE_INTEGRATIONS, ConsoleIntegrations, LedgerBalance, LedgerBatch, PendingReview } from '../integrations/ports';
import { KeysView, SigningKeysView } from '../keys/signing-keys.view';
import { LagView, StageLag } from '../lag/stage-lag';
import { Poller } from './poller';

/** Whose batches and balances the ledger panel asks settlement for: the merchants seen paying most recently. */
const LEDGER_MERCHANTS = 10;

export interface ReviewsView {
  /** Where the list comes from: fraud-check's admin API, or (read-only) what the console saw on the screened topic. */
  readonly source: string;
  readonly can_decide: boolean;
  readonly total: number;
  readonly items: readonly PendingReview[];
  readonly error?: string;
}

export interface LedgerView {
  readonly available: boolean;
  readonly source?: string;
  readonly reason?: string;
  readonly batches: readonly LedgerBatch[];
  readonly balances: readonly LedgerBalance[];
  readonly error?: string;
}

export interface ConsoleSnapshot {
  readonly at: string;
  readonly flow: FlowView;
  readonly lag: LagView;
  readonly keys: KeysView;
  readonly health: readonly ServiceHealthView[];
  readonly reviews: ReviewsView;
  readonly ledger: LedgerView;
  readonly replay: { readonly available: boolean; readonly reason?: string };
  readonly audit: readonly (AuditEntry & { id: string })[];
}

@Injectable()
export class ConsoleState implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly flow = new FlowStatistics();
  readonly snapshots$: Observable<ConsoleSnapshot>;
  private readonly lag: StageLag;
  private readonly keys: SigningKeysView;
  private readonly health: ServiceHealth;
  private reviews: ReviewsView;
  private ledger: LedgerView;
  private audit: (AuditEntry & { id: string })[] = [];
  private readonly pollers: Poller[];
  private readonly auditPoller: Poller;
  private readonly reviewsPoller: Poller | undefined;

  constructor(
    @Inject(CONSOLE_CONFIG) config: ConsoleConfig,
    @Inject(CONSOLE_INTEGRATIONS) private readonly integrations: ConsoleIntegrations,
    private readonly runtime: ConsoleRuntime,
    private readonly auditTrail: AuditTrail,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('console-state');
    this.lag = new StageLag(runtime.lagReader);
    this.keys = new SigningKeysView(config.signingJwks?.url);
    // SIGNING_JWKS_ALLOW_HTTP in use: said once, at boot
    const plainHttp = signingJwksPlainHttpWarning(config.signingJwks);
    if (plainHttp) this.logger.warn({ event: 'payrail.jwks.plain_http', origin: plainHttp.origin, variable: plainHttp.variable }, plainHttp.message);
    this.health = new ServiceHealth(config.healthUrls);
    const reviewsPort = integrations.reviews;
    this.reviews = reviewsPort
      ? { source: reviewsPort.source, can_decide: true, total: 0, items: [] }
      : { source: 'observed on the screened topic since the console started (read-only: no FRAUD_ADMIN_URL)', can_decide: false, total: 0, items: [] };
    this.ledger = integrations.ledger
      ? { available: true, source: integrations.ledger.source, batches: [], balances: [] }
      : { available: false, reason: 'ledger balances need SETTLEMENT_URL and SETTLEMENT_API_TOKEN; batches above are read from the settlement topics', batches: [], balances: [] };
    const warn = (what: string) => (err: Error) => this.logger.warn({ err: err.message }, `${what} refresh failed`);
    this.auditPoller = new Poller(2_000, async () => void (this.audit = await this.auditTrail.recent(30)), warn('audit'));
    this.reviewsPoller = reviewsPort
      ? new Poller(3_000, async () => {
          try {
            const pending = await reviewsPort.pending(50);
            this.reviews = { ...this.reviews, total: pending.total, items: pending.reviews, error: undefined };
          } catch (err) {
            this.reviews = { ...this.reviews, error: (err as Error).message };
            throw err;
          }
        }, warn('review queue'))
      : undefined;
    const ledgerPort = integrations.ledger;
    this.pollers = [
      new Poller(5_000, () => this.lag.refresh(), warn('consumer lag')),
      new Poller(30_000, () => this.keys.refresh(), warn('signing keys')),
      new Poller(5_000, () => this.health.refresh(), warn('service health')),
      this.auditPoller,
      ...(this.reviewsPoller ? [this.reviewsPoller] : []),
      ...(ledgerPort
        ? [
            new Poller(5_000, async () => {
              try {
                const merchants = this.flow.recentMerchants(LEDGER_MERCHANTS);
                const [batches, balances] = await Promise.all([ledgerPort.batches(merchants, 20), ledgerPort.balances(merchants)]);
                this.ledger = { ...this.ledger, batches, balances, error: undefined };
              } catch (err) {
                this.ledger = { ...this.ledger, error: (err as Error).message };
                throw err;
              }
            }, warn('ledger'))
          ]
        : []),
    ];
    this.snapshots$ = timer(0, 1_000).pipe(
      map(() => this.snapshot()),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.observe((message) => this.flow.record(message));
    for (const poller of this.pollers) poller.start();
  }

  /** After an action: the next snapshot shows its audit entry (and the queue without the decided payment). */
  async actionTaken(): Promise<void> {
    await Promise.all([this.auditPoller.refreshNow(), this.reviewsPoller?.refreshNow()]);
  }

  snapshot(): ConsoleSnapshot {
    const flow = this.flow.view();
    const reviews = this.integrations.reviews ? this.reviews : { ...this.reviews, total: flow.reviewsObserved.length, items: flow.reviewsObserved };
    return {
      at: new Date().toISOString(),
      flow,
      lag: this.lag.current(),
      keys: this.keys.view(flow.keysInUse),
      health: this.health.current(),
      reviews,
      ledger: this.ledger,
      replay: this.integrations.replay ? { available: true } : { available: false, reason: 'dead-letter replay is not configured' },
      audit: this.audit,
    };
  }

  /** Before the runtime closes Redis and Kafka: no refresh may still be using them. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
  }
}
