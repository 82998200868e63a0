import { z } from 'zod';
import { CE_HEADERS } from '../envelope/envelope';
import { EXAMPLE_PAYLOADS } from '../examples/examples';
import { KEY_ORIGINS } from '../asyncapi/annotations';
import { CONSUMER_GROUP_SUBSCRIPTIONS, ConsumerGroupKey, ConsumerGroupSubscription, OBSERVER_GROUPS, consumerGroupFor, observerTopicNames } from './consumer-group-subscriptions';
import { allTopicNames, CONSUMER_GROUPS, DEAD_LETTER_TOPICS, DLQ_HEADERS, ServiceName, TopicContract, TopicKey, TOPICS, topicByName } from './topics';

const SERVICES: readonly ServiceName[] = ['ingest', 'signing', 'fraud-check', 'settlement'];
const topics = Object.entries(TOPICS) as [TopicKey, TopicContract][];
const subscriptions = Object.entries(CONSUMER_GROUP_SUBSCRIPTIONS) as [ConsumerGroupKey, ConsumerGroupSubscription][];

function duplicates(values: readonly string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

/** Where a dotted field lives in a zod schema: required, optional, or not there. */
function fieldPresence(schema: z.ZodType, path: string): 'required' | 'optional' | 'absent' {
  const [head, ...rest] = path.split('.');
  if (head === undefined) return 'absent';
  let current: z.ZodType = schema;
  let optional = false;
  while (current instanceof z.ZodOptional) {
    optional = true;
    current = current.unwrap() as z.ZodType;
  }
  if (current instanceof z.ZodUnion) {
    const found = (current.options as z.ZodType[]).map((option) => fieldPresence(option, path));
    if (found.every((p) => p === 'required')) return optional ? 'optional' : 'required';
    return found.some((p) => p !== 'absent') ? 'optional' : 'absent';
  }
  if (!(current instanceof z.ZodObject)) return 'absent';
  const shape = current.shape as Record<string, z.ZodType>;
  const next = shape[head];
  if (next === undefined) return 'absent';
  const inner = rest.length === 0 ? (next.safeParse(undefined).success ? 'optional' : 'required') : fieldPresence(next, rest.join('.'));
  return optional && inner === 'required' ? 'optional' : inner;
}

/** Topics whose key field may be absent from the message (then the producer must still choose a key). */
const OPTIONAL_KEYS: readonly TopicKey[] = ['paymentsRejected', 'securityAlerts'];

describe('TOPICS', () => {
  it('keeps the inbound topic (where a refused, unencrypted JWS may show a card number) for minutes only, in segments small enough to be deleted', () => {
    const config = TOPICS.paymentsInbound.config ?? {};
    expect(Number(config['retention.ms'])).toBeLessThanOrEqual(15 * 60_000);
    expect(Number(config['segment.ms'])).toBeLessThan(Number(config['retention.ms']));
  });

  it('has unique topic names and event types, also against the dead-letter topics', () => {
    const names = [...topics.map(([, t]) => t.name), ...Object.values(DEAD_LETTER_TOPICS)];
    expect(duplicates(names)).toEqual([]);
    expect(duplicates(topics.map(([, t]) => t.eventType))).toEqual([]);
  });

  it.each(topics)('%s: versioned name and event type agree with schemaVersion', (_key, t) => {
    expect(t.name).toMatch(/^payrail\.[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*\.v[1-9][0-9]*$/);
    expect(t.name.endsWith(`.v${t.schemaVersion}`)).toBe(true);
    expect(t.eventType).toMatch(/^dev\.payrail\.[a-z.-]+\.v[1-9][0-9]*$/);
    expect(t.eventType.endsWith(`.v${t.schemaVersion}`)).toBe(true);
    expect(Number.isInteger(t.schemaVersion) && t.schemaVersion > 0).toBe(true);
  });

  it.each(topics)('%s: documents its key and why', (_key, t) => {
    expect(t.key.field).toMatch(/^[a-z_]+(\.[a-z_]+)*$/);
    expect(t.key.why.trim().length).toBeGreaterThan(10);
    expect(t.description.trim().length).toBeGreaterThan(10);
  });

  it.each(topics)('%s: the key field exists in the message (or, per KEY_ORIGINS, in the signed document it carries)', (key, t) => {
    const presence = fieldPresence(KEY_ORIGINS[key]?.schema ?? t.schema, t.key.field);
    expect(presence).not.toBe('absent');
    expect(presence === 'optional').toBe(OPTIONAL_KEYS.includes(key));
  });

  it('keeps the key out of the value only where documented', () => {
    for (const [key, t] of topics) {
      const inValue = fieldPresence(t.schema, t.key.field) !== 'absent';
      expect({ key, inValue }).toEqual({ key, inValue: KEY_ORIGINS[key] === undefined });
    }
  });

  it.each(topics)('%s: has partitions, producers and known consumers', (_key, t) => {
    expect(Number.isInteger(t.partitions) && t.partitions > 0).toBe(true);
    expect(t.producers.length).toBeGreaterThan(0);
    for (const c of t.consumers) expect(SERVICES).toContain(c);
    expect(duplicates([...t.consumers])).toEqual([]);
  });

  it('keeps per-payer and per-merchant ordering across the flow: same key, same partition count', () => {
    expect(TOPICS.paymentsSigned.key.field).toBe(TOPICS.paymentsAccepted.key.field);
    expect(TOPICS.paymentsSigned.partitions).toBe(TOPICS.paymentsAccepted.partitions);
    expect(TOPICS.paymentsSettled.key.field).toBe(TOPICS.paymentsScreened.key.field);
    expect(TOPICS.paymentsSettled.partitions).toBe(TOPICS.paymentsScreened.partitions);
  });

  it.each(topics)('%s: its schema accepts the example message', (key, t) => {
    const result = t.schema.safeParse(EXAMPLE_PAYLOADS[key]);
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('topicByName finds every topic and nothing else', () => {
    for (const [, t] of topics) expect(topicByName(t.name)).toBe(t);
    expect(topicByName('payrail.dlq.ingest.v1')).toBeUndefined();
    expect(topicByName('nope')).toBeUndefined();
  });
});

describe('operations topics', () => {
  it('keep the blocklists on a compacted topic keyed by entry, and the audit trails append-only for years', () => {
    expect(TOPICS.fraudBlocklist.config?.['cleanup.policy']).toBe('compact');
    // the facts Redis is rebuilt from are kept for ever
    for (const t of [TOPICS.paymentsScreened, TOPICS.paymentsSettled, TOPICS.settlementBatchReports, TOPICS.settlementBatches]) expect(t.config?.['retention.ms']).toBe('-1');
    expect(TOPICS.fraudBlocklist.key.field).toBe('entry_id');
    expect(TOPICS.operatorAudit.config?.['cleanup.policy']).toBe('delete');
    expect(Number(TOPICS.operatorAudit.config?.['retention.ms'])).toBeGreaterThanOrEqual(7 * 365 * 86_400_000);
  });

  it('refuse a blocklist change whose key is not its entry, or whose value is a card number', () => {
    const change = { ...EXAMPLE_PAYLOADS.fraudBlocklist };
    expect(TOPICS.fraudBlocklist.schema.safeParse({ ...change, entry_id: 'ip:203.0.113.8' }).success).toBe(false);
    expect(TOPICS.fraudBlocklist.schema.safeParse({ ...change, list: 'card', value: '4111111111111111', entry_id: 'card:4111111111111111' }).success).toBe(false);
    expect(TOPICS.fraudBlocklist.schema.safeParse(change).success).toBe(true);
  });
});

describe('dead-letter topics', () => {
  it('every service that consumes a topic has a dead-letter topic', () => {
    for (const [, t] of topics) for (const consumer of t.consumers) expect(DEAD_LETTER_TOPICS[consumer]).toBeDefined();
    expect(Object.keys(DEAD_LETTER_TOPICS).sort()).toEqual([...SERVICES].sort());
  });

  it('are named payrail.dlq.<service>.v1 and unique', () => {
    for (const [service, name] of Object.entries(DEAD_LETTER_TOPICS)) expect(name).toBe(`payrail.dlq.${service}.v1`);
    expect(duplicates(Object.values(DEAD_LETTER_TOPICS))).toEqual([]);
  });

  it('have unique payrail_dlq_* headers that cannot clash with the envelope', () => {
    const headers = Object.values(DLQ_HEADERS);
    expect(duplicates(headers)).toEqual([]);
    for (const h of headers) expect(h).toMatch(/^payrail_dlq_[a-z_]+$/);
    for (const h of Object.values(CE_HEADERS)) expect(headers).not.toContain(h);
  });
});

describe('allTopicNames', () => {
  it('lists every topic and dead-letter topic once, with its partitions', () => {
    const all = allTopicNames();
    expect(all.map((t) => t.name).sort()).toEqual([...topics.map(([, t]) => t.name), ...Object.values(DEAD_LETTER_TOPICS)].sort());
    for (const [, t] of topics) expect(all).toContainEqual(t.config === undefined ? { name: t.name, partitions: t.partitions } : { name: t.name, partitions: t.partitions, config: t.config });
    for (const { partitions } of all) expect(partitions).toBeGreaterThan(0);
  });
});

describe('consumer groups', () => {
  it('have unique ids', () => {
    expect(duplicates(Object.values(CONSUMER_GROUPS))).toEqual([]);
    for (const id of Object.values(CONSUMER_GROUPS)) expect(id).toMatch(/^payrail-[a-z]+(-[a-z]+)*$/);
  });

  it('each belong to the service their id names and read only topics that service consumes', () => {
    for (const [group, s] of subscriptions) {
      expect(CONSUMER_GROUPS[group].startsWith(`payrail-${s.service}`)).toBe(true);
      expect(s.topics.length).toBeGreaterThan(0);
      for (const topic of s.topics) expect(TOPICS[topic].consumers).toContain(s.service);
    }
  });

  it('cover every (topic, consuming service) pair exactly once', () => {
    for (const [key, t] of topics) {
      for (const consumer of t.consumers) {
        const groups = subscriptions.filter(([, s]) => s.service === consumer && s.topics.includes(key));
        expect({ topic: key, consumer, groups: groups.length }).toEqual({ topic: key, consumer, groups: 1 });
        expect(consumerGroupFor(key, consumer)).toBeDefined();
      }
    }
  });

  it('consumerGroupFor names the group, or undefined when the service does not read the topic', () => {
    expect(consumerGroupFor('paymentsInbound', 'ingest')).toBe('payrail-ingest-inbound');
    expect(consumerGroupFor('paymentsSigned', 'ingest')).toBe('payrail-ingest-status');
    expect(consumerGroupFor('paymentsSigned', 'fraud-check')).toBe('payrail-fraud-check');
    expect(consumerGroupFor('paymentsRejected', 'ingest')).toBeUndefined();
  });
});

describe('observer groups', () => {
  it('have ids unique among all consumer groups, named like them', () => {
    const observerIds = Object.values(OBSERVER_GROUPS).map((o) => o.groupId);
    expect(duplicates([...Object.values(CONSUMER_GROUPS), ...observerIds])).toEqual([]);
    for (const id of observerIds) expect(id).toMatch(/^payrail-[a-z]+(-[a-z]+)*$/);
  });

  it('read catalogue topics only, without being listed as their consumers (they are no stage of the flow)', () => {
    for (const [name, observer] of Object.entries(OBSERVER_GROUPS)) {
      expect(duplicates([...observer.topics])).toEqual([]);
      for (const topic of observer.topics) {
        expect(TOPICS[topic]).toBeDefined();
        expect(TOPICS[topic].consumers as readonly string[]).not.toContain(name);
      }
    }
  });

  it('observerTopicNames gives the console every payment topic it counts and every dead-letter topic', () => {
    const { live, deadLetters } = observerTopicNames('console');
    expect(live).toEqual(expect.arrayContaining([TOPICS.paymentsAccepted.name, TOPICS.paymentsSigned.name, TOPICS.paymentsScreened.name, TOPICS.paymentsSettled.name]));
    expect(live).not.toContain(TOPICS.paymentsInbound.name);
    expect(deadLetters.sort()).toEqual(Object.values(DEAD_LETTER_TOPICS).sort());
  });
});
