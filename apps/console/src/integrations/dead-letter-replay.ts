// DeadLetterReplayPort in-process, on the dead-letter library of @payrail/messaging (the one behind
// `payrail-cli dlq replay`): the same replay ledger in Redis, so a dead letter is replayed at most once whether an
// operator clicks in the console or runs the command. Only references into Payrail's dead-letter topics are taken:
// the console never copies messages of other topics.
import { DEAD_LETTER_TOPICS } from '@payrail/contracts';
import { DeadLetterOperations, Kafka, MessageRef, Redis, formatRef, parseRef } from '@payrail/messaging';
import { DeadLetterReplayPort, IntegrationError, ReplayStatus } from './ports';

const DEAD_LETTER_TOPIC_NAMES = new Set<string>(Object.values(DEAD_LETTER_TOPICS));

export class InProcessDeadLetterReplay implements DeadLetterReplayPort {
  readonly source = 'dead-letter library';
  private readonly operations: DeadLetterOperations;

  constructor(kafka: Kafka, redis: Redis, options: { readTimeoutMs?: number } = {}) {
    this.operations = new DeadLetterOperations(kafka, { redis, readTimeoutMs: options.readTimeoutMs ?? 10_000 });
  }

  async replay(command: { ref: string }): Promise<{ status: ReplayStatus; detail?: string; target?: string }> {
    let ref: MessageRef;
    try {
      ref = parseRef(command.ref);
    } catch (err) {
      return { status: 'not-replayable', detail: (err as Error).message };
    }
    if (!DEAD_LETTER_TOPIC_NAMES.has(ref.topic)) return { status: 'not-replayable', detail: `${ref.topic} is not a dead-letter topic` };
    try {
      const report = await this.operations.replayRefs([ref]);
      const outcome = report.outcomes[0];
      if (!outcome) throw new Error('the replay reported nothing for this dead letter');
      if (outcome.status === 'would-replay') throw new Error('a replay was reported as a dry run');
      const target = outcome.target?.offset === undefined ? undefined : formatRef({ ...outcome.target, offset: outcome.target.offset });
      return { status: outcome.status, detail: outcome.detail, target };
    } catch (err) {
      // Kafka or Redis did not answer: the library keeps any claim it took, so clicking again later is safe
      throw new IntegrationError(this.source, err instanceof Error ? err.message : String(err));
    }
  }
}
