import type { ConsoleConfig } from '../config';
import type { ConsoleRuntime } from '../console.runtime';
import { InProcessDeadLetterReplay } from './dead-letter-replay';
import { FraudAdminReviewQueue } from './fraud-admin.client';
import { ConsoleIntegrations } from './ports';
import { SettlementLedgerClient } from './settlement.client';

/**
 * The ports the configuration provides: the REVIEW queue and the ledger only when their service's URL (and token)
 * are set; dead-letter replay always (in-process, over the console's own Kafka and Redis connections).
 */
export function consoleIntegrations(config: ConsoleConfig, runtime: Pick<ConsoleRuntime, 'kafka' | 'redis'>): ConsoleIntegrations {
  return {
    reviews: config.fraudAdmin ? new FraudAdminReviewQueue(config.fraudAdmin.url, config.fraudAdmin.token) : undefined,
    ledger: config.settlement ? new SettlementLedgerClient(config.settlement.url, config.settlement.token) : undefined,
    replay: new InProcessDeadLetterReplay(runtime.kafka, runtime.redis),
  };
}
