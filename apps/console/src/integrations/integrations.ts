import type { ConsoleConfig } from '../config';
import { FraudAdminReviewQueue } from './fraud-admin.client';
import { ConsoleIntegrations } from './ports';
import { SettlementLedgerClient } from './settlement.client';

/** The ports the configuration provides: each one absent unless its service's URL (and credentials) are set. */
export function consoleIntegrations(config: ConsoleConfig): ConsoleIntegrations {
  return {
    reviews: config.fraudAdmin ? new FraudAdminReviewQueue(config.fraudAdmin.url, config.fraudAdmin.token) : undefined,
    ledger: config.settlement ? new SettlementLedgerClient(config.settlement.url, config.settlement.token) : undefined,
    // dead-letter replay runs in-process on the dead-letter library of @payrail/messaging (not over HTTP)
    replay: undefined,
  };
}
