// The console's connections and their lifecycle: a Kafka client (observer + admin for lag, and a producer for the
// audit topic), Redis (sessions and the audit trail). Connected before the app serves; on shutdown the observer
// stops first, then the rest.
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { OBSERVER_GROUPS, observerTopicNames } from '@payrail/contracts';
import { ConsumerLagReader, EventProducer, Kafka, ObservedMessage, OperatorAccessMetrics, PrometheusMessagingMetrics, Redis, TopicObserver, createKafka, createRedis, redisReady } from '@payrail/messaging';
import { CONSOLE_CONFIG, ConsoleConfig } from './config';

@Injectable()
export class ConsoleRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly kafka: Kafka;
  readonly redis: Redis;
  readonly lagReader: ConsumerLagReader;
  /** Publishes the audit trail's durable copy (payrail.audit.operator-actions.v1). */
  readonly producer: EventProducer;
  /** Served at GET /metrics: the audit producer's and the operator-access series. */
  readonly metrics = new PrometheusMessagingMetrics({ service: 'console' });
  readonly access = new OperatorAccessMetrics(this.metrics.registry);
  private observer: TopicObserver | undefined;

  constructor(
    @Inject(CONSOLE_CONFIG) config: ConsoleConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('console-runtime');
    this.kafka = createKafka(config.kafka, { warn: (o, m) => this.logger.warn(o, m), error: (o, m) => this.logger.error(o, m) });
    this.redis = createRedis(config.redis, 'payrail-console');
    this.redis.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis connection error'));
    this.lagReader = new ConsumerLagReader(this.kafka);
    this.producer = new EventProducer(this.kafka, { source: 'payrail/console', metrics: this.metrics });
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.redis.connect(), this.lagReader.connect(), this.producer.connect()]);
  }

  /** Starts watching the payment topics (from their end) and the dead-letter topics (from their start). */
  async observe(onMessage: (message: ObservedMessage) => void): Promise<void> {
    const topics = observerTopicNames('console');
    this.observer = new TopicObserver(this.kafka, {
      groupId: OBSERVER_GROUPS.console.groupId,
      liveTopics: topics.live,
      fromBeginningTopics: topics.deadLetters,
      onMessage,
      logger: { info: (o, m) => this.logger.info(o, m), warn: (o, m) => this.logger.warn(o, m), error: (o, m) => this.logger.error(o, m) },
      onCrash: (err) => {
        this.logger.fatal({ err: err.message }, 'observer crashed for good: exiting so the orchestrator restarts us');
        setTimeout(() => process.exit(70), 100).unref();
      },
    });
    await this.observer.start();
  }

  async health(): Promise<{ live: boolean; ready: boolean; detail: Record<string, unknown> }> {
    const observer = this.observer;
    const redisOk = await redisReady(this.redis);
    const watching = observer !== undefined && observer.state === 'running' && observer.assignedPartitions > 0;
    return {
      live: observer?.state !== 'crashed',
      ready: watching && redisOk,
      detail: { redis: redisOk ? 'up' : 'down', observer: { state: observer?.state ?? 'idle', partitions: observer?.assignedPartitions ?? 0, reason: observer?.crashReason } },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.observer?.stop();
    await this.lagReader.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
