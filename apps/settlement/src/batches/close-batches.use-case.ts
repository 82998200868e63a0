// Closing settlement batches and sending their reports. A batch closes by size inside the posting script (the
// posting that fills it closes it), or here by cutoff: once its window ended BATCH_GRACE_S ago. Closing is one
// idempotent script (a batch closed twice is closed once, with the first close's time), and it puts the batch in
// the merchant's report outbox; reports are built from the closed (immutable) batch, published keyed by merchant
// with a deterministic event id, and only then taken out of the outbox. A crash in between re-publishes the same
// report, which the signing service signs again and settlement records once.
import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { TOPICS } from '@payrail/contracts';
import { batchReport } from '@payrail/ledger';
import { SettlementMetrics } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { Ledger } from '../ledger/ledger.provider';
import { SettlementSeals } from '../posting/settlement-seals';

export interface CloseBatchesResult {
  closed: string[];
  reported: string[];
}

@Injectable()
export class CloseBatchesUseCase {
  constructor(
    private readonly ledger: Ledger,
    private readonly runtime: MessagingRuntime,
    private readonly metrics: SettlementMetrics,
    private readonly seals: SettlementSeals,
    @Inject(SETTLEMENT_CONFIG) private readonly config: SettlementConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('batches');
  }

  async execute(now: Date): Promise<CloseBatchesResult> {
    const ledger = this.ledger.repository;
    const result: CloseBatchesResult = { closed: [], reported: [] };
    for (const m of await ledger.merchants()) {
      for (const id of await ledger.openBatchIds(m)) {
        const batch = await ledger.batch(m, id);
        if (!batch || Date.parse(batch.windowEnd) + this.config.batch.graceS * 1000 > now.getTime()) continue;
        if ((await ledger.closeBatch(m, id, now.toISOString(), 'cutoff')) !== 'CLOSED') continue;
        result.closed.push(id);
        this.metrics.batchClosed('cutoff');
      }
      const unreported = await ledger.unreportedBatchIds(m);
      await Promise.all(
        unreported.map(async (id) => {
          const batch = await ledger.batch(m, id);
          if (!batch || batch.state !== 'closed') return;
          const report = batchReport(batch, await ledger.batchPaymentIds(m, id));
          // sealed by settlement: signing signs a report only when this seal over it verifies
          await this.runtime.producer.publish(TOPICS.settlementBatchReports, this.seals.sealReport(report), { key: m, correlationId: id, eventId: `${id}:report`, subject: id });
          await ledger.markReported(m, id, new Date().toISOString());
          result.reported.push(id);
        }),
      );
    }
    if (result.closed.length > 0 || result.reported.length > 0) this.logger.info({ closed: result.closed, reported: result.reported }, 'settlement batches closed and reported');
    return result;
  }
}
