// Reads fraud-check's decisions back from the screened topic (fraud-check is its only producer): every partition from
// its first retained offset to its end as it was when the read began, handed over in chunks in the order read (each
// partition in offset order), applied one chunk after another while reading goes on.
import { PaymentScreened, TOPIC_RESTORES, TOPICS } from '@payrail/contracts';
import { Kafka, decode, partitionRanges, readPartitionRanges } from '@payrail/messaging';

/** A large topic takes a while: the replay fails (and is retried) only past this. */
export const SCREENED_REPLAY_TIMEOUT_MS = 15 * 60_000;
const CHUNK = 500;

export class KafkaScreenedHistory {
  constructor(
    private readonly kafka: Kafka,
    private readonly timeoutMs = SCREENED_REPLAY_TIMEOUT_MS,
  ) {}

  async replay(apply: (events: PaymentScreened[]) => Promise<void>): Promise<{ read: number; undecodable: number }> {
    const ranges = await partitionRanges(this.kafka, TOPICS.paymentsScreened.name);
    let chunk: PaymentScreened[] = [];
    let applied: Promise<void> = Promise.resolve();
    let failure: Error | undefined;
    let read = 0;
    let undecodable = 0;
    const flush = () => {
      const events = chunk;
      chunk = [];
      if (events.length === 0) return;
      applied = applied.then(() => (failure ? undefined : apply(events))).catch((err: Error) => void (failure ??= err));
    };
    await readPartitionRanges(
      this.kafka,
      ranges,
      (_topic, _partition, message) => {
        if (failure) return 'stop';
        try {
          chunk.push(decode(TOPICS.paymentsScreened, message).data as PaymentScreened);
          read++;
        } catch {
          // dead-lettered when first consumed; never a decision
          undecodable++;
        }
        if (chunk.length >= CHUNK) flush();
        return 'continue';
      },
      { clientLabel: TOPIC_RESTORES.fraudDecisions.label, timeoutMs: this.timeoutMs },
    );
    flush();
    await applied;
    if (failure) throw failure;
    return { read, undecodable };
  }
}
