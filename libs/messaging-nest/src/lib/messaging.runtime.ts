import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import {
  BatchConsumer,
  BatchConsumerOptions,
  EventProducer,
  Kafka,
  KafkaConnectionConfig,
  PrometheusMessagingMetrics,
  Redis,
  RedisConnectionConfig,
  createKafka,
  connectRedis,
  createRedis,
  redisAuthenticationFailure,
  redisReady,
} from '@payrail/messaging';

export interface MessagingModuleOptions {
  service: string;
  kafka: KafkaConnectionConfig;
  /** Omitted by services that keep no state in Redis (signing). */
  redis?: RedisConnectionConfig;
  producerLingerMs?: number;
  /** Default: a registry of the service's own, served at GET /metrics. */
  metrics?: PrometheusMessagingMetrics;
  /** Exit the process when a consumer crashes for good (default true): no zombie that looks alive. */
  exitOnConsumerCrash?: boolean;
  /** false: no GET /metrics on the HTTP port (a service with a public port serves it on a listener of its own). */
  metricsOnHttpPort?: boolean;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

/**
 * Owns the service's Kafka client, producer, consumers and Redis connection, and their lifecycle:
 * connect before the app serves, and on shutdown stop consumers first (commit what finished), then flush the
 * producer, then close Redis.
 */
@Injectable()
export class MessagingRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly kafka: Kafka;
  readonly producer: EventProducer;
  readonly metrics: PrometheusMessagingMetrics;
  private readonly redisClient: Redis | undefined;
  private readonly consumers: BatchConsumer[] = [];

  constructor(
    @Inject(MESSAGING_OPTIONS) readonly options: MessagingModuleOptions,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('messaging');
    this.metrics = options.metrics ?? new PrometheusMessagingMetrics({ service: options.service });
    this.kafka = createKafka(options.kafka, { warn: (o, m) => this.logger.warn(o, m), error: (o, m) => this.logger.error(o, m) });
    this.producer = new EventProducer(this.kafka, { source: `payrail/${options.service}`, lingerMs: options.producerLingerMs, metrics: this.metrics });
    if (options.redis) {
      this.redisClient = createRedis(options.redis, `payrail-${options.service}`);
      this.redisClient.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis connection error'));
    }
  }

  get redis(): Redis {
    if (!this.redisClient) throw new Error(`${this.options.service} was configured without Redis`);
    return this.redisClient;
  }

  async onModuleInit(): Promise<void> {
    const redis = this.redisClient;
    await Promise.all([redis && this.options.redis ? connectRedis(redis, this.options.redis) : undefined, this.producer.connect()]);
  }

  /** A consumer registered here is reported by the health endpoints and stopped on shutdown. */
  createConsumer(options: Omit<BatchConsumerOptions, 'producer' | 'logger' | 'metrics' | 'onCrash'>): BatchConsumer {
    const consumer = new BatchConsumer(this.kafka, {
      ...options,
      producer: this.producer,
      metrics: this.metrics,
      logger: { info: (o, m) => this.logger.info(o, m), warn: (o, m) => this.logger.warn(o, m), error: (o, m) => this.logger.error(o, m) },
      onCrash: (err) => {
        if (this.options.exitOnConsumerCrash === false) return;
        this.logger.fatal({ err: err.message, groupId: options.groupId }, 'consumer crashed for good: exiting so the orchestrator restarts us');
        setTimeout(() => process.exit(70), 100).unref();
      },
    });
    this.consumers.push(consumer);
    return consumer;
  }

  async health(): Promise<{ live: boolean; ready: boolean; detail: Record<string, unknown> }> {
    const consumers = this.consumers.map((c) => ({ state: c.state, partitions: c.assignedPartitions, reason: c.crashReason }));
    const redisOk = this.redisClient ? await redisReady(this.redisClient) : true;
    const producerOk = this.producer.isConnected();
    const crashed = consumers.some((c) => c.state === 'crashed');
    const consuming = consumers.every((c) => c.state === 'running');
    // refused credentials are not healed by waiting: not live, so the orchestrator restarts us (and start-up says why)
    const redisRefused = this.redisClient ? redisAuthenticationFailure(this.redisClient) !== undefined : false;
    return {
      live: !crashed && !redisRefused,
      ready: !crashed && !redisRefused && consuming && redisOk && producerOk,
      detail: { redis: this.redisClient ? (redisRefused ? 'credentials refused' : redisOk ? 'up' : 'down') : 'not used', producer: producerOk ? 'up' : 'down', consumers },
    };
  }

  async stopConsumers(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopConsumers();
    await this.producer.disconnect().catch((err: Error) => this.logger.warn({ err: err.message }, 'producer flush failed on shutdown'));
    const redis = this.redisClient;
    if (redis) await redis.quit().catch(() => redis.disconnect());
  }
}
