import { AclFilter, AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, LogEntry, ResourcePatternTypes } from 'kafkajs';

export type { Kafka } from 'kafkajs';
import { allTopicNames, KafkaAclBinding, kafkaAclBindings } from '@payrail/contracts';
import { KafkaConnectionConfig, toKafkaJsConfig } from './kafka.config';

export interface KafkaLogSink {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A kafkajs client whose own log lines go to our structured logger (warn and above). */
export function createKafka(config: KafkaConnectionConfig, logger?: KafkaLogSink): Kafka {
  const logCreator = logger
    ? () =>
        ({ level, log }: LogEntry) => {
          const { message, ...rest } = log;
          const detail = { kafkajs: rest.namespace ?? true, error: rest['error'], broker: rest['broker'] };
          if (level === logLevel.ERROR) logger.error(detail, `kafkajs: ${message}`);
          else if (level === logLevel.WARN) logger.warn(detail, `kafkajs: ${message}`);
        }
    : undefined;
  return new Kafka({ ...toKafkaJsConfig(config, logCreator), logLevel: logLevel.WARN });
}

/**
 * Creates every Payrail topic that does not exist yet (local stack, tests; Kubernetes runs `payrail-cli topics
 * ensure` in a Job), with its contract's topic config (the compacted blocklist topic, the audit topic's retention).
 * An existing topic's config is left as it is.
 */
export async function ensureTopics(kafka: Kafka, replicationFactor = 1): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = allTopicNames().filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    return missing.map((t) => t.name);
  } finally {
    await admin.disconnect();
  }
}

// kafkajs' enums are plain objects at run time (no reverse mapping): names to codes and back, for what we use
const RESOURCE_TYPES = { TOPIC: AclResourceTypes.TOPIC, GROUP: AclResourceTypes.GROUP } as const;
const PATTERN_TYPES = { LITERAL: ResourcePatternTypes.LITERAL, PREFIXED: ResourcePatternTypes.PREFIXED } as const;
const OPERATIONS = { READ: AclOperationTypes.READ, WRITE: AclOperationTypes.WRITE, DESCRIBE: AclOperationTypes.DESCRIBE, DELETE: AclOperationTypes.DELETE } as const;
const nameOf = <K extends string>(codes: Record<K, number>, code: number): K | `code ${number}` => (Object.keys(codes) as K[]).find((k) => codes[k] === code) ?? `code ${code}`;

const bindingKey = (b: KafkaAclBinding): string => [b.principal, b.resourceType, b.patternType, b.resourceName, b.operation].join('\u0000');

/**
 * Makes the broker's ACLs for Payrail's principals exactly the table's (libs/contracts kafka-access): creates the
 * missing ALLOW bindings and deletes any other binding those principals hold. Idempotent; needs the admin principal.
 * Returns what it created and deleted.
 */
export async function ensureAcls(kafka: Kafka, bindings: readonly KafkaAclBinding[] = kafkaAclBindings()): Promise<{ created: number; deleted: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const wanted = new Map(bindings.map((b) => [bindingKey(b), b]));
    const present = new Set<string>();
    const stale: AclFilter[] = [];
    for (const principal of new Set(bindings.map((b) => b.principal))) {
      const described = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, principal, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      for (const resource of described.resources) {
        for (const acl of resource.acls) {
          const key = [acl.principal, nameOf(RESOURCE_TYPES, resource.resourceType), nameOf(PATTERN_TYPES, resource.resourcePatternType), resource.resourceName, nameOf(OPERATIONS, acl.operation)].join('\u0000');
          if (acl.permissionType === AclPermissionTypes.ALLOW && acl.host === '*' && wanted.has(key)) present.add(key);
          else stale.push({ resourceType: resource.resourceType, resourceName: resource.resourceName, resourcePatternType: resource.resourcePatternType, principal: acl.principal, host: acl.host, operation: acl.operation, permissionType: acl.permissionType });
        }
      }
    }
    const missing = [...wanted.entries()].filter(([key]) => !present.has(key)).map(([, b]) => b);
    if (missing.length > 0) {
      await admin.createAcls({
        acl: missing.map((b) => ({
          resourceType: RESOURCE_TYPES[b.resourceType],
          resourceName: b.resourceName,
          resourcePatternType: PATTERN_TYPES[b.patternType],
          principal: b.principal,
          host: '*',
          operation: OPERATIONS[b.operation],
          permissionType: AclPermissionTypes.ALLOW,
        })),
      });
    }
    if (stale.length > 0) {
      await admin.deleteAcls({ filters: stale });
    }
    return { created: missing.length, deleted: stale.length };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the cluster coordinates consumer groups and hands out producer ids. A freshly started broker
 * creates `__consumer_offsets` on the first group request and answers COORDINATOR_LOAD_IN_PROGRESS until each of
 * its partitions is loaded; consumers joining meanwhile crash and restart. One offset fetch per partition of that
 * topic (a group id chosen to land on it) and one idempotent producer's InitProducerId prove both ready.
 * Returns the time it took in ms; throws after `timeoutMs`.
 */
export async function awaitCoordinators(kafka: Kafka, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  const giveUpAt = started + timeoutMs;
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let timer: NodeJS.Timeout | undefined;
  let lastAnswer = 'no answer yet';
  const timedOut = (): Error => new Error(`Kafka did not coordinate consumer groups and producer ids within ${timeoutMs / 1000} s (last answer: ${lastAnswer})`);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), timeoutMs);
  });
  // while the broker sets up, every kind of refusal is expected (coordinator not available, loading, not the
  // coordinator, producer id not ready): each step is asked again, with backoff, until it answers or time is up
  const untilAnswered = async (step: () => Promise<unknown>): Promise<void> => {
    for (let backoffMs = 100; ; backoffMs = Math.min(backoffMs * 2, 1_000)) {
      try {
        await step();
        return;
      } catch (err) {
        lastAnswer = (err as Error).message;
        if (Date.now() + backoffMs >= giveUpAt) throw timedOut();
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
  };
  const probe = async (): Promise<void> => {
    const [anyTopic] = allTopicNames();
    if (!anyTopic) throw new Error('the contracts catalogue names no topic');
    await untilAnswered(() => admin.connect());
    // the first group request creates the offsets topic; then every one of its partitions must answer
    await untilAnswered(() => admin.fetchOffsets({ groupId: 'payrail-readiness-probe', topics: [anyTopic.name] }));
    let partitions = 0;
    await untilAnswered(async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
      partitions = metadata.topics[0]?.partitions.length ?? 0;
    });
    for (const groupId of groupIdsCovering(partitions, 'payrail-readiness-probe-')) {
      await untilAnswered(() => admin.fetchOffsets({ groupId, topics: [anyTopic.name] }));
    }
    await untilAnswered(() => producer.connect()); // an idempotent producer asks for its producer id here
  };
  try {
    await Promise.race([probe(), deadline]);
    return Date.now() - started;
  } finally {
    clearTimeout(timer);
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
  }
}

/** Group ids, one per partition of `__consumer_offsets`, as Kafka places them (Java String#hashCode mod n). */
export function groupIdsCovering(partitions: number, prefix: string): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < partitions && i < partitions * 1_000; i++) {
    const groupId = `${prefix}${i}`;
    const partition = offsetsPartitionOf(groupId, partitions);
    if (!byPartition.has(partition)) byPartition.set(partition, groupId);
  }
  return [...byPartition.entries()].sort(([a], [b]) => a - b).map(([, groupId]) => groupId);
}

/** Kafka's GroupCoordinator.partitionFor: Utils.abs(groupId.hashCode) % partitions (abs = clear the sign bit). */
export function offsetsPartitionOf(groupId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(hash, 31) + groupId.charCodeAt(i)) | 0;
  return (hash & 0x7fffffff) % partitions;
}
