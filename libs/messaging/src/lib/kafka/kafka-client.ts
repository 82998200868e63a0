import { Kafka, logLevel, LogEntry } from 'kafkajs';

export type { Kafka } from 'kafkajs';
import { allTopicNames } from '@payrail/contracts';
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

/** Creates every Payrail topic that does not exist yet (local stack, tests; Kubernetes declares them itself). */
export async function ensureTopics(kafka: Kafka, replicationFactor = 1): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = allTopicNames().filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor })),
      });
    }
    return missing.map((t) => t.name);
  } finally {
    await admin.disconnect();
  }
}
