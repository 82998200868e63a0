// What the console refuses to replay before touching Kafka or Redis: anything that is not a place in one of
// Payrail's dead-letter topics (the replay itself is the dead-letter library's, proven against the real broker in
// libs/messaging and end to end in e2e/console.e2e-spec.ts).
import { createKafka, createRedis } from '@payrail/messaging';
import { InProcessDeadLetterReplay } from './dead-letter-replay';

describe('InProcessDeadLetterReplay', () => {
  // never connected: every case below is refused before any I/O
  const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'console-replay-spec', ssl: false });
  const redis = createRedis({ url: 'redis://127.0.0.1:1', keyPrefix: 'unused:' }, 'console-replay-spec');
  const replay = new InProcessDeadLetterReplay(kafka, redis);
  afterAll(() => redis.disconnect());

  it('copies only out of dead-letter topics: a payment topic is refused', async () => {
    await expect(replay.replay({ ref: 'payrail.payments.accepted.v1/0/12' })).resolves.toEqual({ status: 'not-replayable', detail: 'payrail.payments.accepted.v1 is not a dead-letter topic' });
  });

  it('refuses what is not topic/partition/offset', async () => {
    await expect(replay.replay({ ref: 'payrail.dlq.signing.v1/x/1' })).resolves.toMatchObject({ status: 'not-replayable', detail: expect.stringContaining('is not a dead-letter reference') });
  });
});
