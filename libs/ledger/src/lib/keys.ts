// The ledger's key layout in Redis (relative to REDIS_KEY_PREFIX). Every key of one merchant carries the
// merchant's hash tag `{merchant}`, so each script touches one slot (Redis Cluster ready). The few global keys
// (merchant registry, epoch, locks) are never touched by a script together with a merchant's keys.

export const ACCOUNTS = ['clearing', 'merchant_payable', 'fee_revenue'] as const;
export type LedgerAccount = (typeof ACCOUNTS)[number];

export const LedgerKeys = {
  /** Set of every merchant with ledger state (SADD before the merchant's first script: idempotent). */
  merchants: 'ledger:merchants',
  /** Random id written once per ledger life; a missing or changed epoch means Redis lost its data. */
  epoch: 'ledger:meta:epoch',
  closerLock: 'ledger:lock:batch-closer',
  /** Epoch ms until which no batch closes: set after a restore (settled events held up by the loss may still land). */
  closingHeldUntil: 'ledger:meta:closing-held-until',
  /** Held by the one process restoring the ledger from Kafka (the service after a Redis loss, or the CLI). */
  restoreLock: 'ledger:lock:restore',
  invariantsLock: 'ledger:lock:invariants',

  /**
   * The ledger epoch the merchant's keys belong to, in the merchant's slot: the posting script refuses to write
   * when it is not the epoch the caller works in (missing: Redis lost the merchant's keys; another: a restore is
   * writing them), so nothing is ever posted into a ledger that lost its history.
   */
  merchantEpoch: (m: string) => `ledger:{${m}}:epoch`,
  /** Hash: the posting of one payment (its id is the posting id); its existence makes posting a no-op. */
  posting: (m: string, paymentId: string) => `ledger:{${m}}:posting:${paymentId}`,
  /** Integer balance of one account in one currency, in minor units. */
  account: (m: string, account: LedgerAccount, currency: string) => `ledger:{${m}}:account:${account}:${currency}`,
  /** Set of the currencies the merchant has postings in. */
  currencies: (m: string) => `ledger:{${m}}:currencies`,
  /** Hash payment id -> REVIEW | DECLINE: payments screened but not approved; never posted while there. */
  held: (m: string) => `ledger:{${m}}:held`,
  /** Hash: one settlement batch (state, window, totals, close facts, signed report). */
  batch: (m: string, batchId: string) => `ledger:{${m}}:batch:${batchId}`,
  /** Set of the payment ids posted into a batch. */
  batchPayments: (m: string, batchId: string) => `ledger:{${m}}:batch:${batchId}:payments`,
  /** Sorted set of the merchant's batch ids, scored by window start and sequence. */
  batches: (m: string) => `ledger:{${m}}:batches`,
  /** Set of the merchant's open batch ids (what the closer looks at). */
  openBatches: (m: string) => `ledger:{${m}}:batches:open`,
  /** Set of closed batch ids whose report was not yet acknowledged by Kafka (the report outbox). */
  unreported: (m: string) => `ledger:{${m}}:batches:unreported`,
  /** Hash `<currency>:<window>` -> the sequence number of the window's batch now taking postings. */
  cursors: (m: string) => `ledger:{${m}}:batch-cursors`,
} as const;
