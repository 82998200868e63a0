import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONSUMER_GROUP_SUBSCRIPTIONS, OBSERVER_GROUPS } from './consumer-group-subscriptions';
import { OPERATIONS_DOCUMENT_PATH, STRIMZI_USERS_PATH, renderStrimziKafkaUsers, withKafkaAccessSection } from './kafka-access-render';
import { KAFKA_ADMIN_USERNAME, KAFKA_PRINCIPAL_NAMES, TOPIC_RESTORES, kafkaAccessTable, kafkaAclBindings, kafkaPrincipal, renderKafkaAccessMarkdown, replayTargetTopics } from './kafka-access';
import { allTopicNames, CONSUMER_GROUPS, DEAD_LETTER_TOPICS, ServiceName, TopicContract, TOPICS } from './topics';

const topics = Object.values(TOPICS) as TopicContract[];
const writers = (name: string) => kafkaAccessTable().filter((p) => p.topics.some((t) => t.topic === name && t.operations.includes('WRITE'))).map((p) => p.name).sort();
const readers = (name: string) => kafkaAccessTable().filter((p) => p.topics.some((t) => t.topic === name && t.operations.includes('READ'))).map((p) => p.name).sort();
const REPLAYERS = ['console', 'operator'];

describe('the Kafka access table (one principal per service and tool)', () => {
  it('has one SCRAM user per principal, none of them the admin', () => {
    const users = kafkaAccessTable().map((p) => p.username);
    expect(users).toEqual(KAFKA_PRINCIPAL_NAMES.map((n) => `payrail-${n}`));
    expect(users).not.toContain(KAFKA_ADMIN_USERNAME);
  });

  it.each(topics.map((t) => [t.name, t] as const))('%s: written by its producers (and the dead-letter replayers, for a topic a stage reads), nobody else', (name, topic) => {
    const replayed = replayTargetTopics().includes(name);
    expect(writers(name)).toEqual([...new Set([...topic.producers, ...(replayed ? REPLAYERS : [])])].sort());
  });

  it.each(topics.map((t) => [t.name, t] as const))('%s: read by its consumers, the observers and restores that name it, nobody else', (name, topic) => {
    const expected = new Set<string>(topic.consumers);
    for (const observer of Object.values(OBSERVER_GROUPS)) if ((observer.topics as readonly string[]).some((k) => TOPICS[k as keyof typeof TOPICS].name === name)) expected.add('console');
    for (const restore of Object.values(TOPIC_RESTORES)) if ((restore.topics as readonly string[]).some((k) => TOPICS[k as keyof typeof TOPICS].name === name)) expected.add(restore.principal);
    // replayers look for their copies on a replay target, except on the inbound topic
    if (replayTargetTopics().includes(name) && name !== TOPICS.paymentsInbound.name) for (const r of REPLAYERS) expected.add(r);
    expect(readers(name)).toEqual([...expected].sort());
  });

  it('only ingest reads the inbound topic, only upstreams (and dead-letter replays) write it', () => {
    expect(readers(TOPICS.paymentsInbound.name)).toEqual(['ingest']);
    expect(writers(TOPICS.paymentsInbound.name)).toEqual(['console', 'operator', 'upstream']);
    expect(kafkaPrincipal('upstream')).toMatchObject({ topics: [{ topic: TOPICS.paymentsInbound.name, operations: ['WRITE'] }], groups: [] });
  });

  it.each(Object.entries(DEAD_LETTER_TOPICS) as [ServiceName, string][])('%s alone writes its dead-letter topic %s; the console and the operator read it', (service, dlq) => {
    expect(writers(dlq)).toEqual([service]);
    expect(readers(dlq)).toEqual(['console', 'operator']);
  });

  it('covers every topic of the catalogue and no other', () => {
    const named = new Set(kafkaAccessTable().flatMap((p) => p.topics.map((t) => t.topic)));
    expect([...named].sort()).toEqual(allTopicNames().map((t) => t.name).filter((n) => named.has(n)).sort());
    for (const t of allTopicNames()) expect(named.has(t.name)).toBe(true);
  });

  it('gives each stage its consumer groups (READ), the console its observer group and DESCRIBE on every stage group, nobody another stage\'s group', () => {
    for (const [key, subscription] of Object.entries(CONSUMER_GROUP_SUBSCRIPTIONS)) {
      const group = CONSUMER_GROUPS[key as keyof typeof CONSUMER_GROUPS];
      const readingGroup = kafkaAccessTable().filter((p) => p.groups.some((g) => g.group === group && g.operations.includes('READ')));
      expect(readingGroup.map((p) => p.name)).toEqual([subscription.service]);
      expect(kafkaPrincipal('console').groups).toContainEqual({ group, patternType: 'LITERAL', operations: ['DESCRIBE'] });
    }
    expect(kafkaPrincipal('console').groups).toContainEqual({ group: OBSERVER_GROUPS.console.groupId, patternType: 'LITERAL', operations: ['READ'] });
  });

  it('gives each restore a prefixed group of its label, with READ and DELETE (the group is removed when done)', () => {
    for (const restore of Object.values(TOPIC_RESTORES)) {
      expect(kafkaPrincipal(restore.principal).groups).toContainEqual({ group: `${restore.label}-`, patternType: 'PREFIXED', operations: ['READ', 'DELETE'] });
    }
  });

  it('grants DESCRIBE alone only where neither READ nor WRITE (which imply it) is granted', () => {
    for (const p of kafkaAccessTable()) for (const t of p.topics) if (t.operations.includes('DESCRIBE')) expect(t.operations).toEqual(['DESCRIBE']);
  });

  it('renders one binding per (resource, operation) and no cluster permission', () => {
    const bindings = kafkaAclBindings();
    expect(new Set(bindings.map((b) => JSON.stringify(b))).size).toBe(bindings.length);
    expect(bindings.every((b) => b.resourceType === 'TOPIC' || b.resourceType === 'GROUP')).toBe(true);
    expect(bindings.filter((b) => b.principal === 'User:payrail-upstream')).toEqual([{ resourceType: 'TOPIC', resourceName: TOPICS.paymentsInbound.name, patternType: 'LITERAL', principal: 'User:payrail-upstream', operation: 'WRITE' }]);
  });

  it('renders as a Markdown table with a row per principal', () => {
    const markdown = renderKafkaAccessMarkdown();
    for (const p of kafkaAccessTable()) expect(markdown).toContain(`| \`${p.username}\` |`);
  });
});

describe('the Kafka access table rendered outside the code (regenerate: write-kafka-access.ts)', () => {
  const root = resolve(__dirname, '..', '..', '..', '..', '..');
  const committed = (path: string) => readFileSync(join(root, path), 'utf8');

  it(`${OPERATIONS_DOCUMENT_PATH}: its generated section is the table as it is now`, () => {
    const document = committed(OPERATIONS_DOCUMENT_PATH);
    expect(withKafkaAccessSection(document)).toBe(document);
  });

  it(`${STRIMZI_USERS_PATH}: one KafkaUser per principal with exactly its ACLs`, () => {
    expect(committed(STRIMZI_USERS_PATH)).toBe(renderStrimziKafkaUsers());
    const users = parseAllDocuments(committed(STRIMZI_USERS_PATH)).map((d) => d.toJS() as { metadata: { name: string }; spec: { authentication: { type: string }; authorization?: { acls: { operations: string[] }[] } } });
    // the admin first, a SCRAM user without ACLs (a super user of the Kafka resource), then every principal
    expect(users.map((u) => u.metadata.name)).toEqual([KAFKA_ADMIN_USERNAME, ...kafkaAccessTable().map((p) => p.username)]);
    expect(users.every((u) => u.spec.authentication.type === 'scram-sha-512')).toBe(true);
    expect(users[0]?.spec.authorization).toBeUndefined();
    const aclCount = users.reduce((n, u) => n + (u.spec.authorization?.acls ?? []).reduce((m, a) => m + a.operations.length, 0), 0);
    expect(aclCount).toBe(kafkaAclBindings().length);
  });
});
