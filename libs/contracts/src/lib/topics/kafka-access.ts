// Who may do what on Payrail's Kafka: one principal per service and per tool, and the ACLs each gets, derived from
// the topic catalogue (producers, consumers), the consumer groups, the observers, the dead-letter topics and the
// restores that read topics outside any stage's consumer group. `payrail-cli topics ensure` creates these ACLs, the
// docs (docs/operations.md) and the manifests (deploy/k8s prod KafkaUsers, the compose set-up job) are rendered
// from them, and the integration test proves every principal is refused what is not listed here.
import { CONSUMER_GROUP_SUBSCRIPTIONS, ConsumerGroupKey, OBSERVER_GROUPS } from './consumer-group-subscriptions';
import { CONSUMER_GROUPS, DEAD_LETTER_TOPICS, ServiceName, TOPICS, TopicContract, TopicKey } from './topics';

export type KafkaPrincipalName = ServiceName | 'console' | 'operator' | 'upstream';

/**
 * Readers that take a throw-away consumer group of their own (`<label>-<uuid>`, deleted when done) instead of a
 * stage's group: restores of Redis from the durable topics, the fraud backtest, dead-letter listing and replay.
 * The label is what the code passes as `clientLabel`; the ACL is on the prefix `<label>-`.
 */
export interface TopicRestore {
  readonly principal: KafkaPrincipalName;
  readonly label: string;
  readonly description: string;
  readonly topics: readonly TopicKey[];
  /** Also reads every dead-letter topic. */
  readonly deadLetters?: boolean;
}

export const TOPIC_RESTORES = {
  ingestStatus: { principal: 'ingest', label: 'payrail-ingest-status-restore', description: 'payment status read model after a Redis loss', topics: ['paymentsAccepted', 'paymentsSigned', 'paymentsScreened', 'paymentsSettled'] },
  ingestReplayGuard: { principal: 'ingest', label: 'payrail-ingest-guard-restore', description: 'replay guard after a Redis loss', topics: ['paymentsAccepted'] },
  fraudDecisions: { principal: 'fraud-check', label: 'payrail-fraud-decision-restore', description: 'decisions and reviews after a Redis loss', topics: ['paymentsScreened'] },
  fraudBlocklist: { principal: 'fraud-check', label: 'payrail-fraud-blocklist-replay', description: 'blocklists replayed into Redis', topics: ['fraudBlocklist'] },
  fraudAudit: { principal: 'fraud-check', label: 'payrail-fraud-check-audit-restore', description: "the admin API's audit trail after a Redis loss", topics: ['operatorAudit'] },
  fraudBacktest: { principal: 'fraud-check', label: 'payrail-fraud-backtest', description: 'rule backtests over signed payments (fraud-check CLI)', topics: ['paymentsSigned'] },
  settlementLedger: { principal: 'settlement', label: 'payrail-settlement-replay', description: 'ledger rebuild and reconcile (the service and `payrail settlement ...`)', topics: ['paymentsScreened', 'paymentsSettled', 'settlementBatchReports', 'settlementBatches'] },
  consoleAudit: { principal: 'console', label: 'payrail-console-audit-restore', description: "the console's audit trail after a Redis loss", topics: ['operatorAudit'] },
  consoleDeadLetters: { principal: 'console', label: 'payrail-dlq-reader', description: 'dead letters listed and replayed from the console', topics: [], deadLetters: true },
  consoleDeadLetterRecovery: { principal: 'console', label: 'payrail-dlq-recovery', description: 'replays interrupted by a crash, finished from the console', topics: [], deadLetters: true },
  operatorDeadLetters: { principal: 'operator', label: 'payrail-dlq-reader', description: '`payrail dlq list|inspect|replay`', topics: [], deadLetters: true },
  operatorDeadLetterRecovery: { principal: 'operator', label: 'payrail-dlq-recovery', description: 'replays interrupted by a crash, finished by `payrail dlq replay`', topics: [], deadLetters: true },
} as const satisfies Record<string, TopicRestore>;

export type TopicRestoreKey = keyof typeof TOPIC_RESTORES;

export type AclPatternType = 'LITERAL' | 'PREFIXED';
export type TopicOperation = 'WRITE' | 'READ' | 'DESCRIBE';
export type GroupOperation = 'READ' | 'DESCRIBE' | 'DELETE';

export interface TopicGrant {
  readonly topic: string;
  readonly operations: readonly TopicOperation[];
}

export interface GroupGrant {
  readonly group: string;
  readonly patternType: AclPatternType;
  readonly operations: readonly GroupOperation[];
}

export interface KafkaPrincipal {
  readonly name: KafkaPrincipalName;
  /** The SASL/SCRAM user name, `User:<username>` in the ACLs. */
  readonly username: string;
  readonly description: string;
  readonly topics: readonly TopicGrant[];
  readonly groups: readonly GroupGrant[];
}

/**
 * Provisioning (topics, ACLs, SCRAM users) and the brokers' own connections: the one super user besides the
 * brokers. Not a service's identity: only `payrail-cli topics ensure`, deployment jobs and the test harness use it.
 */
export const KAFKA_ADMIN_USERNAME = 'payrail-admin';

export const KAFKA_PRINCIPAL_NAMES: readonly KafkaPrincipalName[] = ['ingest', 'signing', 'fraud-check', 'settlement', 'console', 'operator', 'upstream'];

const DESCRIPTIONS: Record<KafkaPrincipalName, string> = {
  ingest: 'the ingest service',
  signing: 'the signing service',
  'fraud-check': 'the fraud-check service and its CLI (backtest)',
  settlement: 'the settlement service and `payrail settlement check|reconcile|rebuild`',
  console: 'the operator console: watches the flow, reads consumer lag, replays dead letters, writes its audit trail',
  operator: '`payrail dlq`: lists, inspects and replays dead letters',
  upstream: 'upstreams that publish signed payments to Kafka instead of POST /v1/payments: write the inbound topic, nothing else',
};

export function kafkaUsername(principal: KafkaPrincipalName): string {
  return `payrail-${principal}`;
}

const topicEntries = (): [TopicKey, TopicContract][] => Object.entries(TOPICS) as [TopicKey, TopicContract][];

/** Topics a dead letter can come from, so the topics a replay writes to: every topic a stage reads in a group. */
export function replayTargetTopics(): string[] {
  const keys = new Set<TopicKey>();
  for (const subscription of Object.values(CONSUMER_GROUP_SUBSCRIPTIONS)) for (const key of subscription.topics) keys.add(key);
  return topicEntries().filter(([key]) => keys.has(key)).map(([, t]) => t.name);
}

/** Does this principal replay dead letters (and so write to their original topics)? */
function replaysDeadLetters(principal: KafkaPrincipalName): boolean {
  return (Object.values(TOPIC_RESTORES) as TopicRestore[]).some((r) => r.principal === principal && r.deadLetters === true);
}

/** The ACLs of one principal, derived from the catalogue. */
export function kafkaPrincipal(principal: KafkaPrincipalName): KafkaPrincipal {
  const write = new Set<string>();
  const read = new Set<string>();
  const describe = new Set<string>();
  const groups: GroupGrant[] = [];
  for (const [, t] of topicEntries()) {
    if ((t.producers as readonly string[]).includes(principal)) write.add(t.name);
  }
  if (principal in DEAD_LETTER_TOPICS) write.add(DEAD_LETTER_TOPICS[principal as ServiceName]);
  for (const [key, subscription] of Object.entries(CONSUMER_GROUP_SUBSCRIPTIONS) as [ConsumerGroupKey, { service: ServiceName; topics: readonly TopicKey[] }][]) {
    if (subscription.service !== principal) continue;
    for (const topic of subscription.topics) read.add(TOPICS[topic].name);
    groups.push({ group: CONSUMER_GROUPS[key], patternType: 'LITERAL', operations: ['READ'] });
  }
  for (const observer of Object.values(OBSERVER_GROUPS)) {
    if (observer.groupId !== kafkaObserverGroupOf(principal)) continue;
    for (const topic of observer.topics) read.add(TOPICS[topic].name);
    if (observer.deadLetters) for (const dlq of Object.values(DEAD_LETTER_TOPICS)) read.add(dlq);
    groups.push({ group: observer.groupId, patternType: 'LITERAL', operations: ['READ'] });
  }
  for (const restore of Object.values(TOPIC_RESTORES) as TopicRestore[]) {
    if (restore.principal !== principal) continue;
    for (const topic of restore.topics) read.add(TOPICS[topic].name);
    if (restore.deadLetters) for (const dlq of Object.values(DEAD_LETTER_TOPICS)) read.add(dlq);
    groups.push({ group: `${restore.label}-`, patternType: 'PREFIXED', operations: ['READ', 'DELETE'] });
  }
  if (replaysDeadLetters(principal)) {
    // a replay copies a dead letter back to its original topic, and finishing an interrupted replay looks for the
    // copy there; the inbound topic is written but read by ingest alone (PCI scope), so finishing an interrupted
    // replay into it is refused with TOPIC_AUTHORIZATION_FAILED (docs/dead-letters.md)
    for (const name of replayTargetTopics()) {
      write.add(name);
      if (name !== TOPICS.paymentsInbound.name) read.add(name);
    }
  }
  if (principal === 'console') {
    // consumer lag per stage: the committed offsets of every stage's group and the ends of what they read
    for (const group of Object.values(CONSUMER_GROUPS)) groups.push({ group, patternType: 'LITERAL', operations: ['DESCRIBE'] });
    for (const subscription of Object.values(CONSUMER_GROUP_SUBSCRIPTIONS)) for (const topic of subscription.topics) describe.add(TOPICS[topic].name);
  }
  // READ and WRITE imply DESCRIBE in Kafka: DESCRIBE is granted only where neither is
  const names = [...new Set([...write, ...read, ...describe])].sort();
  const topics = names.map((topic) => ({
    topic,
    operations: [...(write.has(topic) ? ['WRITE' as const] : []), ...(read.has(topic) ? ['READ' as const] : []), ...(!write.has(topic) && !read.has(topic) ? ['DESCRIBE' as const] : [])],
  }));
  return { name: principal, username: kafkaUsername(principal), description: DESCRIPTIONS[principal], topics, groups };
}

function kafkaObserverGroupOf(principal: KafkaPrincipalName): string | undefined {
  return principal === 'console' ? OBSERVER_GROUPS.console.groupId : undefined;
}

/** The whole table: every principal and its ACLs. */
export function kafkaAccessTable(): KafkaPrincipal[] {
  return KAFKA_PRINCIPAL_NAMES.map(kafkaPrincipal);
}

/** One Kafka ACL binding (resource, pattern, principal, operation, ALLOW), as the admin API creates it. */
export interface KafkaAclBinding {
  readonly resourceType: 'TOPIC' | 'GROUP';
  readonly resourceName: string;
  readonly patternType: AclPatternType;
  readonly principal: string;
  readonly operation: TopicOperation | GroupOperation;
}

/** Every ACL binding of the table, one per (resource, operation), all ALLOW from any host. */
export function kafkaAclBindings(table: readonly KafkaPrincipal[] = kafkaAccessTable()): KafkaAclBinding[] {
  const bindings: KafkaAclBinding[] = [];
  for (const p of table) {
    const principal = `User:${p.username}`;
    for (const t of p.topics) for (const operation of t.operations) bindings.push({ resourceType: 'TOPIC', resourceName: t.topic, patternType: 'LITERAL', principal, operation });
    for (const g of p.groups) for (const operation of g.operations) bindings.push({ resourceType: 'GROUP', resourceName: g.group, patternType: g.patternType, principal, operation });
  }
  return bindings;
}

/** The table as a Markdown section (docs/operations.md, between the kafka-access markers; a test keeps it in step). */
export function renderKafkaAccessMarkdown(table: readonly KafkaPrincipal[] = kafkaAccessTable()): string {
  const lines = [
    '| Principal (SCRAM user) | Who | Writes | Reads | Describes | Consumer groups |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const list = (items: string[]) => (items.length === 0 ? '-' : items.map((i) => `\`${i}\``).join('<br>'));
  for (const p of table) {
    const by = (op: TopicOperation) => p.topics.filter((t) => t.operations.includes(op)).map((t) => t.topic);
    const groups = p.groups.map((g) => `${g.group}${g.patternType === 'PREFIXED' ? '*' : ''} (${g.operations.join(', ')})`);
    lines.push(`| \`${p.username}\` | ${p.description} | ${list(by('WRITE'))} | ${list(by('READ'))} | ${list(by('DESCRIBE'))} | ${list(groups)} |`);
  }
  lines.push('', `\`${KAFKA_ADMIN_USERNAME}\` is the only super user besides the brokers' own principals: it creates topics, SCRAM users and these ACLs (\`payrail-cli topics ensure\`). \`*\`: a prefixed ACL (a throw-away group \`<prefix><uuid>\` per restore or replay, deleted when done). No principal has any cluster permission: Kafka 4 lets an idempotent producer initialise with WRITE on a topic (KIP-679).`);
  return lines.join('\n');
}
