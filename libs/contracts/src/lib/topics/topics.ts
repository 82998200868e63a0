// Every Kafka topic Payrail uses, defined once. Names are versioned (`.v1`): a breaking schema change gets a new
// topic and both run side by side until consumers have moved.
import { z } from 'zod';
import {
  InboundPaymentSchema,
} from '../payments/payment-submission';
import {
  PaymentAcceptedSchema,
  PaymentRejectedSchema,
  PaymentScreenedSchema,
  PaymentSettledSchema,
  PaymentSignedSchema,
} from '../payments/payment-events';
import { SettlementBatchReportSchema, SignedSettlementBatchSchema } from '../settlement/settlement-batch';
import { SecurityAlertSchema } from '../security/security-alert';
import { BlocklistChangedSchema } from '../operations/blocklist-change';
import { OperatorAuditEntrySchema } from '../operations/operator-audit';

export type ServiceName = 'ingest' | 'signing' | 'fraud-check' | 'settlement';

export interface TopicContract<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** CloudEvents `type` of the messages on this topic. */
  readonly eventType: string;
  readonly schemaVersion: number;
  readonly schema: S;
  readonly description: string;
  /** What the message key is, and why: the key decides the partition and so the ordering. */
  readonly key: { readonly field: string; readonly why: string };
  readonly partitions: number;
  /**
   * Topic-level settings `payrail-cli topics ensure` creates the topic with (Kafka topic configs, e.g.
   * cleanup.policy, retention.ms); the broker's defaults where absent.
   */
  readonly config?: Readonly<Record<string, string>>;
  readonly producers: readonly (ServiceName | 'upstream' | 'console')[];
  readonly consumers: readonly ServiceName[];
  /**
   * Its messages hold card numbers anyone reading the topic can read (an upstream's signed, unencrypted JWS): a
   * dead letter from it never keeps the value as it was (DLQ_HEADERS.valueProtection says what it keeps instead).
   */
  readonly cardNumbersInClear?: true;
}

function topic<S extends z.ZodType>(t: TopicContract<S>): TopicContract<S> {
  return t;
}

/** Partitions cap how many instances of a consumer group can work at once (KEDA max replicas = partitions). */
const PARTITIONS = 12;

/**
 * Kept for ever: the facts Redis is rebuilt from after a loss (fraud-check's decisions and reviews from the
 * screened topic; the ledger from the screened, settled, batch-report and signed-batch topics).
 */
const FACTS_KEPT = { 'retention.ms': '-1' } as const;

export const TOPICS = {
  paymentsInbound: topic({
    name: 'payrail.payments.inbound.v1',
    eventType: 'dev.payrail.payment.submitted.v1',
    schemaVersion: 1,
    schema: InboundPaymentSchema,
    description: 'Signed payments published by upstreams directly to Kafka instead of POST /v1/payments.',
    key: { field: 'upstream_reference', why: "the upstream's own reference spreads load; ordering across payments is not needed before ingest" },
    partitions: PARTITIONS,
    producers: ['upstream'],
    consumers: ['ingest'],
    cardNumbersInClear: true,
    // The upstream's signed JWS carries the card number in its (base64url, unencrypted) payload: keep minutes, not
    // days. One-minute segments so the broker really deletes them (retention only drops closed segments).
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(15 * 60_000), 'segment.ms': String(60_000) },
  }),
  paymentsAccepted: topic({
    name: 'payrail.payments.accepted.v1',
    eventType: 'dev.payrail.payment.accepted.v1',
    schemaVersion: 1,
    schema: PaymentAcceptedSchema,
    description: 'Payments ingest authenticated, validated, de-duplicated and protected.',
    key: { field: 'payer.fingerprint', why: 'keeps each payer on one partition from here on, so fraud velocity sees a payer\'s payments in order' },
    partitions: PARTITIONS,
    producers: ['ingest'],
    consumers: ['signing'],
  }),
  paymentsSigned: topic({
    name: 'payrail.payments.signed.v1',
    eventType: 'dev.payrail.payment.signed.v1',
    schemaVersion: 1,
    schema: PaymentSignedSchema,
    description: "Payment instructions with Payrail's JWS over their canonical JSON.",
    key: { field: 'payer.fingerprint', why: 'ordering per payer for fraud velocity counting' },
    partitions: PARTITIONS,
    producers: ['signing'],
    consumers: ['fraud-check', 'ingest'],
  }),
  paymentsScreened: topic({
    name: 'payrail.payments.screened.v1',
    eventType: 'dev.payrail.payment.screened.v1',
    schemaVersion: 1,
    schema: PaymentScreenedSchema,
    description: 'Fraud decisions (APPROVE / REVIEW / DECLINE), and analyst decisions on REVIEW.',
    key: { field: 'merchant_id', why: 'ordering per merchant for settlement: one merchant\'s postings and batches stay on one consumer' },
    partitions: PARTITIONS,
    config: FACTS_KEPT,
    producers: ['fraud-check'],
    consumers: ['settlement', 'ingest'],
  }),
  paymentsSettled: topic({
    name: 'payrail.payments.settled.v1',
    eventType: 'dev.payrail.payment.settled.v1',
    schemaVersion: 1,
    schema: PaymentSettledSchema,
    description: 'Payments posted to the double-entry ledger.',
    key: { field: 'merchant_id', why: 'same partitioning as the screened topic it follows' },
    partitions: PARTITIONS,
    config: FACTS_KEPT,
    producers: ['settlement'],
    consumers: ['ingest'],
  }),
  paymentsRejected: topic({
    name: 'payrail.payments.rejected.v1',
    eventType: 'dev.payrail.payment.rejected.v1',
    schemaVersion: 1,
    schema: PaymentRejectedSchema,
    description: 'Inbound payments refused by ingest, with the reason, for the upstream to read back.',
    key: { field: 'upstream_id', why: 'each upstream reads its own rejections in order' },
    partitions: PARTITIONS,
    producers: ['ingest'],
    consumers: [],
  }),
  settlementBatchReports: topic({
    name: 'payrail.settlement.batch-reports.v1',
    eventType: 'dev.payrail.settlement.batch-report.v1',
    schemaVersion: 1,
    schema: SettlementBatchReportSchema,
    description: 'Closed settlement batches, unsigned, for the signing service.',
    key: { field: 'merchant_id', why: 'ordering per merchant' },
    partitions: PARTITIONS,
    config: FACTS_KEPT,
    producers: ['settlement'],
    consumers: ['signing'],
  }),
  settlementBatches: topic({
    name: 'payrail.settlement.batches.v1',
    eventType: 'dev.payrail.settlement.batch.v1',
    schemaVersion: 1,
    schema: SignedSettlementBatchSchema,
    description: "Settlement batch reports signed by Payrail, for merchants' and treasury's systems (settlement records them on their batches).",
    key: { field: 'merchant_id', why: 'ordering per merchant' },
    partitions: PARTITIONS,
    config: FACTS_KEPT,
    producers: ['signing'],
    consumers: ['settlement'],
  }),
  securityAlerts: topic({
    name: 'payrail.security.alerts.v1',
    eventType: 'dev.payrail.security.alert.v1',
    schemaVersion: 1,
    schema: SecurityAlertSchema,
    description: 'Cryptographic failures that must not happen in normal operation (e.g. a Payrail signature that fails, or an event whose producer\'s seal does not verify).',
    key: { field: 'payment_id', why: 'no ordering needed; the key only spreads load' },
    partitions: 3,
    producers: ['ingest', 'signing', 'fraud-check', 'settlement'],
    consumers: [],
  }),
  fraudBlocklist: topic({
    name: 'payrail.fraud.blocklist.v1',
    eventType: 'dev.payrail.fraud.blocklist-changed.v1',
    schemaVersion: 1,
    schema: BlocklistChangedSchema,
    description:
      "Every change to fraud-check's blocklists (put or removed), the durable record of the lists: compacted, so it keeps the latest change of each entry; fraud-check replays it into Redis on start and whenever Redis lost its data (no consumer group: a replay reads the whole topic).",
    key: { field: 'entry_id', why: 'compaction keeps the latest change of each "<list>:<value>" entry, and one entry\'s changes stay in order on one partition' },
    partitions: 3,
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '3600000' },
    producers: ['fraud-check'],
    consumers: [],
  }),
  operatorAudit: topic({
    name: 'payrail.audit.operator-actions.v1',
    eventType: 'dev.payrail.audit.operator-action.v1',
    schemaVersion: 1,
    schema: OperatorAuditEntrySchema,
    description:
      "Every entry of the operators' audit trails (fraud-check's admin API and the console), append-only with long retention: the durable copy from which each service restores its recent trail in Redis on start and whenever Redis lost its data (no consumer group: a restore reads the topic's tail).",
    key: { field: 'service', why: 'each trail stays in order on one partition, so its recent entries are the tail of that partition' },
    partitions: 3,
    // seven years: audit evidence outlives the payments it is about
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 366 * 86_400_000) },
    producers: ['fraud-check', 'console'],
    consumers: [],
  }),
} as const;

export type TopicKey = keyof typeof TOPICS;
export type EventOf<K extends TopicKey> = z.output<(typeof TOPICS)[K]['schema']>;

/** One dead-letter topic per consuming stage. Messages keep their original key, value and headers. */
export const DEAD_LETTER_TOPICS: Record<ServiceName, string> = {
  ingest: 'payrail.dlq.ingest.v1',
  signing: 'payrail.dlq.signing.v1',
  'fraud-check': 'payrail.dlq.fraud-check.v1',
  settlement: 'payrail.dlq.settlement.v1',
};

/** Dead-letter headers (added to the original message's headers). */
export const DLQ_HEADERS = {
  originalTopic: 'payrail_dlq_original_topic',
  originalPartition: 'payrail_dlq_original_partition',
  originalOffset: 'payrail_dlq_original_offset',
  errorClass: 'payrail_dlq_error_class',
  errorMessage: 'payrail_dlq_error_message',
  attempts: 'payrail_dlq_attempts',
  firstFailureAt: 'payrail_dlq_first_failure_at',
  lastFailureAt: 'payrail_dlq_last_failure_at',
  consumerGroup: 'payrail_dlq_consumer_group',
  /**
   * On dead letters of a topic with card numbers in clear: `jwe` (the value is the original value as a compact JWE
   * to Payrail's data-protection key, which only its holder can open) or `withheld` (no value kept).
   */
  valueProtection: 'payrail_dlq_value_protection',
} as const;

/** What a dead letter of a card-bearing topic keeps of the value (DLQ_HEADERS.valueProtection). */
export const DLQ_VALUE_PROTECTION = { jwe: 'jwe', withheld: 'withheld' } as const;

/**
 * Headers a replayed dead letter carries on its original topic (`payrail-cli dlq replay`): the original key, value
 * and headers come back unchanged, the DLQ_HEADERS are removed and these are added. The `ce_id` stays the same, so a
 * consumer that already processed the event drops the replay as a duplicate.
 */
export const REPLAY_HEADERS = {
  replayOf: 'payrail_replay_of',
  replayedAt: 'payrail_replayed_at',
} as const;

/** Consumer group ids, as the apps use them and as autoscalers (KEDA) must name them. */
export const CONSUMER_GROUPS = {
  ingestInbound: 'payrail-ingest-inbound',
  ingestStatus: 'payrail-ingest-status',
  signing: 'payrail-signing',
  signingReports: 'payrail-signing-reports',
  fraudCheck: 'payrail-fraud-check',
  settlement: 'payrail-settlement',
  settlementBatches: 'payrail-settlement-batches',
} as const;

export function allTopicNames(): { name: string; partitions: number; config?: Readonly<Record<string, string>> }[] {
  return [
    ...Object.values(TOPICS).map((t: TopicContract) => (t.config === undefined ? { name: t.name, partitions: t.partitions } : { name: t.name, partitions: t.partitions, config: t.config })),
    ...Object.values(DEAD_LETTER_TOPICS).map((name) => ({ name, partitions: 3 })),
  ];
}

export function topicByName(name: string): TopicContract | undefined {
  return Object.values(TOPICS).find((t) => t.name === name);
}
