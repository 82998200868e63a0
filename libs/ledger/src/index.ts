// @payrail/ledger: settlement's double-entry ledger in Redis (framework-free). Postings, balances, settlement
// batches and their reports, the invariants, and reconcile / rebuild from Kafka.
export * from './lib/keys';
export * from './lib/fees';
export * from './lib/batch-id';
export * from './lib/ledger.repository';
export * from './lib/posting';
export * from './lib/decisions';
export * from './lib/invariants';
export * from './lib/topic-replay';
export * from './lib/evidence';
export * from './lib/reconcile';
export * from './lib/rebuild';
export * from './lib/restore';
export * from './lib/ledger.config';
