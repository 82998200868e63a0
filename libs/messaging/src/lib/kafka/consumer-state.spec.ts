// The consumer's state as health checks see it, driven by the events kafkajs emits (a fake consumer: no broker).
import type { ConsumerConfig, Kafka } from 'kafkajs';
import { TOPICS } from '@payrail/contracts';
import { BatchConsumer } from './batch-consumer';
import type { EventProducer } from './event-producer';

type Listener = (event: { payload: Record<string, unknown> }) => void;

class FakeKafkaConsumer {
  readonly events = { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join', STOP: 'consumer.stop' };
  private readonly listeners = new Map<string, Listener[]>();
  onRun: () => void = () => undefined;
  on(event: string, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  emit(event: string, payload: Record<string, unknown>): void {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }
  connect = async (): Promise<void> => undefined;
  subscribe = async (): Promise<void> => undefined;
  async run(): Promise<void> {
    this.onRun();
  }
  async disconnect(): Promise<void> {
    this.emit(this.events.STOP, {});
  }
}

function consumerWithFake(maxConsecutiveRestarts?: number) {
  const fake = new FakeKafkaConsumer();
  let config: ConsumerConfig | undefined;
  const kafka = { consumer: (c: ConsumerConfig) => ((config = c), fake) } as unknown as Kafka;
  const crashes: Error[] = [];
  const consumer = new BatchConsumer(kafka, {
    groupId: 'payrail-test',
    routes: [{ topic: TOPICS.paymentsSigned, handler: async () => undefined }],
    deadLetterTopic: 'payrail.dlq.test.v1',
    producer: {} as EventProducer,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onCrash: (err) => crashes.push(err),
    maxConsecutiveRestarts,
  });
  const restartOnFailure = async (err: Error) => (config?.retry?.restartOnFailure ? config.retry.restartOnFailure(err) : true);
  const crash = (restart: boolean) => fake.emit(fake.events.CRASH, { error: new Error('broker went away'), groupId: 'payrail-test', restart });
  const join = (partitions: number[]) => fake.emit(fake.events.GROUP_JOIN, { memberAssignment: { 'payrail.payments.signed.v1': partitions } });
  return { consumer, fake, crashes, restartOnFailure, crash, join };
}

describe('BatchConsumer state for health checks', () => {
  it('is not ready while kafkajs restarts it, and running again once it rejoined its group', async () => {
    const { consumer, crash, join } = consumerWithFake();
    await consumer.start();
    join([0, 1, 2]);
    expect([consumer.state, consumer.assignedPartitions]).toEqual(['running', 3]);
    crash(true);
    expect(consumer.state).toBe('restarting');
    join([0, 1]);
    expect([consumer.state, consumer.assignedPartitions]).toEqual(['running', 2]);
  });

  it('stops restarting after 5 crashes in a row: crashed for good, onCrash called, and stop() keeps it crashed', async () => {
    const { consumer, crashes, restartOnFailure, crash } = consumerWithFake();
    await consumer.start();
    const decisions: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const restart = await restartOnFailure(new Error('broker went away'));
      decisions.push(restart);
      crash(restart);
    }
    expect(decisions).toEqual([true, true, true, true, true, false]);
    expect(consumer.state).toBe('crashed');
    expect(consumer.crashReason).toBe('broker went away');
    expect(crashes).toHaveLength(1);
    await consumer.stop();
    expect(consumer.state).toBe('crashed');
  });

  it('honours a configured crash-loop limit', async () => {
    const { consumer, restartOnFailure, crash } = consumerWithFake(1);
    await consumer.start();
    expect(await restartOnFailure(new Error('x'))).toBe(true);
    crash(true);
    expect(await restartOnFailure(new Error('x'))).toBe(false);
  });

  it('reports a crash while joining (kafkajs resolves run() and emits CRASH) as crashed, not running', async () => {
    const { consumer, fake, crash } = consumerWithFake();
    fake.onRun = () => crash(false);
    await consumer.start();
    expect(consumer.state).toBe('crashed');
  });

  it('is stopped after a clean stop', async () => {
    const { consumer } = consumerWithFake();
    await consumer.start();
    await consumer.stop();
    expect(consumer.state).toBe('stopped');
  });
});
