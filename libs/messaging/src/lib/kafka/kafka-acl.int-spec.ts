// Against the test broker (SASL/SCRAM only, StandardAuthorizer, ACLs from libs/contracts kafka-access.ts created by
// ensureAcls): every principal is refused a topic it must not write, a topic it must not read and a consumer group
// that is not its own, with Kafka's own authorization errors, while what the table allows works; and a client
// without credentials or with a wrong password does not get in at all. Each principal connects with its own SCRAM
// user, its password read from PAYRAIL_KAFKA_CREDENTIALS_DIR (`npm test` and `cli.mjs infra` pass it).
//
// A write is proven allowed without appending anything to the real topics: the record is larger than the topic's
// max.message.bytes, which the broker checks only after authorizing the request (MESSAGE_TOO_LARGE means "you may
// write here", TOPIC_AUTHORIZATION_FAILED "you may not"). Reads join the group and fetch, committing nothing.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONSUMER_GROUP_SUBSCRIPTIONS,
  CONSUMER_GROUPS,
  ConsumerGroupKey,
  ConsumerGroupSubscription,
  DEAD_LETTER_TOPICS,
  KafkaPrincipal,
  KafkaPrincipalName,
  OBSERVER_GROUPS,
  TOPICS,
  kafkaPrincipal,
  observerTopicNames,
} from '@payrail/contracts';
import { createKafka, ensureAcls, Kafka } from './kafka-client';
import { KafkaConnectionConfig } from './kafka.config';
import { kafkaBrokers, silentLogger, testKafka } from '../../test/kafka-test-kit';

const credentialsDir = process.env['PAYRAIL_KAFKA_CREDENTIALS_DIR'];
if (!credentialsDir) throw new Error('PAYRAIL_KAFKA_CREDENTIALS_DIR is not set: run under `npm test` or with .payrail/infra/test.env');

/** A client and what kafkajs logged at error level (the broker's own error text for each refused request). */
interface LoggedKafka {
  readonly kafka: Kafka;
  readonly errors: string[];
}

function connection(username: string, password: string | undefined, clientId: string): KafkaConnectionConfig {
  return { brokers: kafkaBrokers(), clientId, ssl: false, ...(password === undefined ? {} : { sasl: { mechanism: 'scram-sha-512' as const, username, password } }) };
}

function kafkaAs(principal: KafkaPrincipal, password = readFileSync(join(credentialsDir ?? '', `${principal.username}.password`), 'utf8').trim()): LoggedKafka {
  const errors: string[] = [];
  const kafka = createKafka(connection(principal.username, password, `acl-test-${principal.name}`), { warn: () => undefined, error: (obj) => errors.push(JSON.stringify(obj)) });
  return { kafka, errors };
}

/**
 * The Kafka error code of a failure (kafkajs wraps protocol errors in retriable/non-retriable errors). A refused
 * FindCoordinator is the exception: kafkajs drops the broker's answer and reports "Failed to find group
 * coordinator", so the code is taken from the broker's error text it logged for that request.
 */
function errorCode(err: unknown, logged: readonly string[] = []): string {
  if ((err as Error | undefined)?.name === 'KafkaJSGroupCoordinatorNotFound' && logged.some((l) => l.includes('Not authorized to access group'))) return 'GROUP_AUTHORIZATION_FAILED';
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const candidate = e as { type?: string; name?: string; originalError?: unknown; cause?: unknown };
    if (candidate.type && candidate.type !== 'UNKNOWN') return candidate.type;
    if (candidate.name === 'KafkaJSSASLAuthenticationError') return 'SASL_AUTHENTICATION_FAILED';
    if (candidate.name === 'KafkaJSConnectionError' || candidate.name === 'KafkaJSConnectionClosedError') return 'CONNECTION_REFUSED';
    e = candidate.originalError ?? candidate.cause;
  }
  return String((err as Error)?.message ?? err);
}

/** Sends one record too large for any topic: MESSAGE_TOO_LARGE once authorized, else the authorization error. */
async function tryWrite({ kafka }: LoggedKafka, topic: string): Promise<string> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 1, initialRetryTime: 100 } });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'acl-test', value: Buffer.alloc(1_100_000, 0x61) }] });
    return 'APPENDED';
  } catch (err) {
    return errorCode(err);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Joins `groupId` on `topic` and fetches once (no commit): OK, or the error that stopped it. */
async function tryRead({ kafka, errors }: LoggedKafka, groupId: string, topic: string): Promise<string> {
  errors.length = 0;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, retry: { retries: 0, restartOnFailure: async () => false } });
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = new Promise<string>((resolve) => {
      consumer.on(consumer.events.CRASH, (event) => resolve(errorCode(event.payload.error, errors)));
      consumer.on(consumer.events.FETCH, () => resolve('OK'));
      timer = setTimeout(() => resolve('TIMEOUT'), 30_000);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
    return await outcome;
  } catch (err) {
    return errorCode(err, errors);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * A group the principal may use for `topic`: the stage or observer group that reads it, else a throw-away group
 * under one of its restore prefixes, else any group of its own (then the topic is what refuses it).
 */
function ownGroup(p: KafkaPrincipal, topic: string): string {
  for (const [key, subscription] of Object.entries(CONSUMER_GROUP_SUBSCRIPTIONS) as [ConsumerGroupKey, ConsumerGroupSubscription][]) {
    if (subscription.service === p.name && subscription.topics.some((t) => TOPICS[t].name === topic)) return CONSUMER_GROUPS[key];
  }
  const observer = Object.values(OBSERVER_GROUPS).find((o) => p.groups.some((g) => g.group === o.groupId));
  if (observer && observerTopicNames('console').live.concat(observerTopicNames('console').deadLetters).includes(topic)) return observer.groupId;
  const prefixed = p.groups.find((g) => g.patternType === 'PREFIXED' && g.operations.includes('READ'));
  if (prefixed) return `${prefixed.group}acl-test-${randomUUID()}`;
  const literal = p.groups.find((g) => g.operations.includes('READ'));
  return literal ? literal.group : `payrail-acl-test-${randomUUID()}`;
}

interface PrincipalCase {
  /** A topic it writes (the table must say WRITE). */
  readonly allowedWrite: string;
  /** A topic it reads, with the group it reads it in. */
  readonly allowedRead?: string;
  /** A topic it must not write, and why that matters. */
  readonly refusedWrite: string;
  /** A topic it must not read. */
  readonly refusedRead: string;
  /** A group that is not its own. */
  readonly foreignGroup: string;
}

const CASES: Record<KafkaPrincipalName, PrincipalCase> = {
  // could fake fraud decisions (skip review) / read Payrail-signed payout reports
  ingest: { allowedWrite: TOPICS.paymentsAccepted.name, allowedRead: TOPICS.paymentsInbound.name, refusedWrite: TOPICS.paymentsScreened.name, refusedRead: TOPICS.settlementBatches.name, foreignGroup: CONSUMER_GROUPS.signing },
  signing: { allowedWrite: TOPICS.paymentsSigned.name, allowedRead: TOPICS.paymentsAccepted.name, refusedWrite: TOPICS.paymentsScreened.name, refusedRead: TOPICS.paymentsInbound.name, foreignGroup: CONSUMER_GROUPS.ingestInbound },
  'fraud-check': { allowedWrite: TOPICS.paymentsScreened.name, allowedRead: TOPICS.paymentsSigned.name, refusedWrite: TOPICS.settlementBatchReports.name, refusedRead: TOPICS.paymentsInbound.name, foreignGroup: CONSUMER_GROUPS.settlement },
  settlement: { allowedWrite: TOPICS.paymentsSettled.name, allowedRead: TOPICS.paymentsScreened.name, refusedWrite: TOPICS.paymentsScreened.name, refusedRead: TOPICS.paymentsInbound.name, foreignGroup: CONSUMER_GROUPS.fraudCheck },
  console: { allowedWrite: TOPICS.operatorAudit.name, allowedRead: DEAD_LETTER_TOPICS.settlement, refusedWrite: TOPICS.fraudBlocklist.name, refusedRead: TOPICS.paymentsInbound.name, foreignGroup: CONSUMER_GROUPS.settlement },
  operator: { allowedWrite: TOPICS.paymentsSigned.name, allowedRead: DEAD_LETTER_TOPICS.signing, refusedWrite: TOPICS.fraudBlocklist.name, refusedRead: TOPICS.paymentsInbound.name, foreignGroup: OBSERVER_GROUPS.console.groupId },
  upstream: { allowedWrite: TOPICS.paymentsInbound.name, refusedWrite: TOPICS.paymentsAccepted.name, refusedRead: TOPICS.paymentsInbound.name, foreignGroup: CONSUMER_GROUPS.ingestInbound },
};

const can = (p: KafkaPrincipal, topic: string, op: 'WRITE' | 'READ') => p.topics.some((t) => t.topic === topic && t.operations.includes(op));

describe('Kafka ACLs: each principal gets what the table in libs/contracts gives it, and nothing else', () => {
  beforeAll(async () => {
    // `payrail-cli topics ensure` did this for the run; again here: idempotent, and proves it converges
    const admin = testKafka('acl-test-admin');
    await ensureAcls(admin);
    expect(await ensureAcls(admin)).toEqual({ created: 0, deleted: 0 });
  });

  describe.each(Object.entries(CASES) as [KafkaPrincipalName, PrincipalCase][])('%s', (name, c) => {
    const principal = kafkaPrincipal(name);

    it('the cases agree with the table', () => {
      expect(can(principal, c.allowedWrite, 'WRITE')).toBe(true);
      if (c.allowedRead) expect(can(principal, c.allowedRead, 'READ')).toBe(true);
      expect(can(principal, c.refusedWrite, 'WRITE')).toBe(false);
      expect(can(principal, c.refusedRead, 'READ')).toBe(false);
      expect(principal.groups.some((g) => c.foreignGroup.startsWith(g.group) && g.operations.includes('READ'))).toBe(false);
    });

    it(`writes ${c.allowedWrite} and is refused writing ${c.refusedWrite}`, async () => {
      const kafka = kafkaAs(principal);
      expect(await tryWrite(kafka, c.allowedWrite)).toBe('MESSAGE_TOO_LARGE');
      expect(await tryWrite(kafka, c.refusedWrite)).toBe('TOPIC_AUTHORIZATION_FAILED');
    });

    it(`${c.allowedRead ? `reads ${c.allowedRead}, ` : ''}is refused reading ${c.refusedRead} and joining ${c.foreignGroup}`, async () => {
      const kafka = kafkaAs(principal);
      if (c.allowedRead) expect(await tryRead(kafka, ownGroup(principal, c.allowedRead), c.allowedRead)).toBe('OK');
      const refusedRead = await tryRead(kafka, ownGroup(principal, c.refusedRead), c.refusedRead);
      // a principal with no group of its own is stopped at the group before it gets to the topic
      expect(refusedRead).toBe(principal.groups.length === 0 ? 'GROUP_AUTHORIZATION_FAILED' : 'TOPIC_AUTHORIZATION_FAILED');
      const readable = principal.topics.find((t) => t.operations.includes('READ'))?.topic ?? c.allowedWrite;
      expect(await tryRead(kafka, c.foreignGroup, readable)).toBe('GROUP_AUTHORIZATION_FAILED');
    });
  });

  it('the upstream principal reads nothing at all', () => {
    expect(kafkaPrincipal('upstream').topics).toEqual([{ topic: TOPICS.paymentsInbound.name, operations: ['WRITE'] }]);
    expect(kafkaPrincipal('upstream').groups).toEqual([]);
  });

  it.each([
    ['no credentials', undefined, 'CONNECTION_REFUSED'],
    ['a wrong password', 'not-the-password', 'SASL_AUTHENTICATION_FAILED'],
  ])('a client with %s gets nothing', async (_case, password, expected) => {
    const kafka = createKafka({ ...connection('payrail-signing', password, 'acl-test-anonymous'), sasl: password === undefined ? undefined : { mechanism: 'scram-sha-512', username: 'payrail-signing', password } }, silentLogger);
    const admin = kafka.admin({ retry: { retries: 0 } });
    const outcome = await admin.connect().then(
      () => admin.listTopics().then(() => 'LISTED', errorCode),
      errorCode,
    );
    await admin.disconnect().catch(() => undefined);
    expect(outcome).toBe(expected);
  });
});
