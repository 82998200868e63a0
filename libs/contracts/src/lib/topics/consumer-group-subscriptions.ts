// Which topics each consumer group (CONSUMER_GROUPS) reads. Kept next to the catalogue so the AsyncAPI document,
// docs/events.md and autoscaler configuration can name the group of every (topic, consuming service) pair; the
// unit tests check that every consumer listed in TOPICS is covered by exactly one group of that service.
import { CONSUMER_GROUPS, DEAD_LETTER_TOPICS, ServiceName, TOPICS, TopicContract, TopicKey } from './topics';

export type ConsumerGroupKey = keyof typeof CONSUMER_GROUPS;

export interface ConsumerGroupSubscription {
  readonly service: ServiceName;
  readonly topics: readonly TopicKey[];
}

export const CONSUMER_GROUP_SUBSCRIPTIONS = {
  ingestInbound: { service: 'ingest', topics: ['paymentsInbound'] },
  /** ingest follows each payment through the flow for its status view. */
  ingestStatus: { service: 'ingest', topics: ['paymentsSigned', 'paymentsScreened', 'paymentsSettled'] },
  signing: { service: 'signing', topics: ['paymentsAccepted'] },
  signingReports: { service: 'signing', topics: ['settlementBatchReports'] },
  fraudCheck: { service: 'fraud-check', topics: ['paymentsSigned'] },
  settlement: { service: 'settlement', topics: ['paymentsScreened'] },
  /** settlement records each signed batch report on its batch (the operators API serves it). */
  settlementBatches: { service: 'settlement', topics: ['settlementBatches'] },
} as const satisfies Record<ConsumerGroupKey, ConsumerGroupSubscription>;

/** The consumer group id a service reads a topic with, or undefined when it does not read it. */
export function consumerGroupFor(topic: TopicKey, service: ServiceName): string | undefined {
  for (const [group, subscription] of Object.entries(CONSUMER_GROUP_SUBSCRIPTIONS) as [ConsumerGroupKey, ConsumerGroupSubscription][]) {
    if (subscription.service === service && subscription.topics.includes(topic)) return CONSUMER_GROUPS[group];
  }
  return undefined;
}

export interface ConsumerGroupSpec {
  readonly groupId: string;
  readonly topics: TopicContract[];
  /** The consuming service's dead-letter topic. */
  readonly deadLetterTopic: string;
}

/** Everything a consumer needs to join a group: its id, the topic contracts it reads, where dead letters go. */
export function consumerGroupSpec(group: ConsumerGroupKey): ConsumerGroupSpec {
  const subscription: ConsumerGroupSubscription = CONSUMER_GROUP_SUBSCRIPTIONS[group];
  return {
    groupId: CONSUMER_GROUPS[group],
    topics: subscription.topics.map((key) => TOPICS[key]),
    deadLetterTopic: DEAD_LETTER_TOPICS[subscription.service],
  };
}

/**
 * Read-only observers: consumer groups that watch the flow for operators (the console) and are no stage of it.
 * They never produce, never dead-letter (a message they cannot decode is the consuming stage's business, and that
 * stage has dead-lettered it already) and commit no offsets: they hold nothing durable, so every start reads the
 * payment topics from their end (live counters) and, with `deadLetters`, every dead-letter topic from its beginning.
 */
export interface ObserverGroup {
  readonly groupId: string;
  readonly description: string;
  readonly topics: readonly TopicKey[];
  /** Also reads every dead-letter topic (DEAD_LETTER_TOPICS). */
  readonly deadLetters: boolean;
}

export const OBSERVER_GROUPS = {
  console: {
    groupId: 'payrail-console',
    description: 'The operator console: live counters, throughput, fraud decisions, settlement batches, signing key use and dead letters.',
    topics: ['paymentsAccepted', 'paymentsRejected', 'paymentsSigned', 'paymentsScreened', 'paymentsSettled', 'settlementBatchReports', 'settlementBatches', 'securityAlerts'],
    deadLetters: true,
  },
} as const satisfies Record<string, ObserverGroup>;

export type ObserverKey = keyof typeof OBSERVER_GROUPS;

/** The topic names an observer reads: its topics and, when it watches dead letters, every dead-letter topic. */
export function observerTopicNames(observer: ObserverKey): { live: string[]; deadLetters: string[] } {
  const group: ObserverGroup = OBSERVER_GROUPS[observer];
  return { live: group.topics.map((key) => TOPICS[key].name), deadLetters: group.deadLetters ? Object.values(DEAD_LETTER_TOPICS) : [] };
}
