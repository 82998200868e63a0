import { Inject, Injectable } from '@nestjs/common';
import { BatchCursorCache, LedgerRepository } from '@payrail/ledger';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';

/**
 * The service's ledger: one repository over the runtime's Redis connection, and the in-process hints (current
 * batch sequences, merchants already registered) that save round trips; the epoch watchdog clears them.
 */
@Injectable()
export class Ledger {
  readonly repository: LedgerRepository;
  readonly cursors = new BatchCursorCache();
  private readonly registered = new Set<string>();

  constructor(
    runtime: MessagingRuntime,
    @Inject(SETTLEMENT_CONFIG) readonly config: SettlementConfig,
  ) {
    this.repository = new LedgerRepository(runtime.redis);
  }

  async registerMerchant(merchantId: string): Promise<void> {
    if (this.registered.has(merchantId)) return;
    await this.repository.registerMerchant(merchantId);
    if (this.registered.size > 100_000) this.registered.clear();
    this.registered.add(merchantId);
  }

  /** After Redis lost its data or the ledger was rebuilt: forget every hint. */
  forgetHints(): void {
    this.cursors.clear();
    this.registered.clear();
  }
}
