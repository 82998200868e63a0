// A NestJS microservice transport (@nestjs/microservices CustomTransportStrategy) over Payrail's batch consumer:
// handlers are declared with @EventPattern(TOPICS.x.name) and receive a decoded, schema-checked ConsumedEvent, or,
// declared with @EventPattern(TOPICS.x.name, { batch: true }), every decoded event of a fetched partition batch
// (ConsumedEvent[]) and answer one EventResult per event (see @payrail/messaging BatchEventHandler).
// NestJS's built-in Kafka transport handles one message at a time per partition (eachMessage); this one uses
// eachBatch with concurrency across keys, retries and dead letters (see @payrail/messaging BatchConsumer).
import type { INestApplication } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { ConsumerGroupKey, consumerGroupSpec } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent, EventResult, EventRoute, HandlerOutcome } from '@payrail/messaging';
import { MessagingRuntime } from './messaging.runtime';

export interface PayrailKafkaTransportOptions {
  /** The consumer group (contracts' CONSUMER_GROUP_SUBSCRIPTIONS): its id, topics and dead-letter topic. */
  group: ConsumerGroupKey;
  fromBeginning?: boolean;
  keyConcurrency?: number;
  maxAttempts?: number;
  /** Seals dead letters of topics with card numbers in clear (see BatchConsumerOptions.protectDeadLetterValue). */
  protectDeadLetterValue?: (value: Buffer) => Promise<Buffer>;
}

export class PayrailKafkaTransport extends Server implements CustomTransportStrategy {
  private consumer: BatchConsumer | undefined;

  constructor(
    private readonly runtime: MessagingRuntime,
    private readonly transportOptions: PayrailKafkaTransportOptions,
  ) {
    super();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const { groupId, topics, deadLetterTopic } = consumerGroupSpec(this.transportOptions.group);
      const routes = topics.map((topic): EventRoute => {
        const handler = this.getHandlerByPattern(topic.name);
        if (!handler) throw new Error(`no @EventPattern('${topic.name}') handler registered for consumer group ${groupId}`);
        if (handler.extras?.['batch'] === true) {
          return {
            topic,
            batchHandler: async (events: readonly ConsumedEvent[]): Promise<readonly EventResult[]> => {
              const results: unknown = await lastValueFrom(this.transformToObservable(await handler(events)), { defaultValue: undefined });
              if (!Array.isArray(results)) throw new Error(`the batch handler of ${topic.name} did not answer an array of results`);
              return results as EventResult[];
            },
          };
        }
        return {
          topic,
          handler: async (event: ConsumedEvent): Promise<HandlerOutcome | undefined> => {
            const result = await handler(event);
            const outcome: unknown = await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
            // a handler that recognised a redelivery returns 'duplicate' (counted apart in the metrics)
            return outcome === 'duplicate' ? 'duplicate' : undefined;
          },
        };
      });
      this.consumer = this.runtime.createConsumer({
        groupId,
        routes,
        deadLetterTopic,
        fromBeginning: this.transportOptions.fromBeginning,
        keyConcurrency: this.transportOptions.keyConcurrency,
        maxAttempts: this.transportOptions.maxAttempts,
        protectDeadLetterValue: this.transportOptions.protectDeadLetterValue,
      });
      await this.consumer.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  on(): never {
    throw new Error('PayrailKafkaTransport does not support event listeners');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}

/** Connects one Payrail transport per consumer group to the app (called before the app starts listening). */
export function connectConsumerGroups(app: INestApplication, ...groups: ConsumerGroupKey[]): void {
  connectConsumerGroupsWith(app, {}, ...groups);
}

/**
 * connectConsumerGroups with options for every consumer: an app whose consumers read a topic with card numbers in
 * clear passes `protectDeadLetterValue` (ingest: a JWE to the data-protection key).
 */
export function connectConsumerGroupsWith(app: INestApplication, options: Pick<PayrailKafkaTransportOptions, 'protectDeadLetterValue'>, ...groups: ConsumerGroupKey[]): void {
  const runtime = app.get(MessagingRuntime);
  for (const group of groups) {
    app.connectMicroservice({ strategy: new PayrailKafkaTransport(runtime, { group, ...options }) }, { inheritAppConfig: true });
  }
}
