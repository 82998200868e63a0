// A dead letter as operators see it: where it sits in its dead-letter topic, where it came from and why it failed
// (the DLQ_HEADERS decoded), and the message to publish when it is replayed. Pure functions, no I/O.
import { CE_HEADERS, DLQ_HEADERS, REPLAY_HEADERS } from '@payrail/contracts';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** Where a message sits: topic, partition, offset. Written `topic/partition/offset` (see formatRef). */
export interface MessageRef {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface DeadLetter {
  /** Its place in the dead-letter topic: what `dlq inspect` and `dlq replay` take. */
  readonly ref: MessageRef;
  /** When it was dead-lettered (the dead-letter record's Kafka timestamp), RFC 3339. */
  readonly deadLetteredAt: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  /** Where it was consumed from; undefined fields when the header is missing or malformed (see `problems`). */
  readonly original: { readonly topic?: string; readonly partition?: number; readonly offset?: string };
  readonly errorClass?: string;
  readonly errorMessage?: string;
  readonly attempts?: number;
  readonly firstFailureAt?: string;
  readonly lastFailureAt?: string;
  readonly consumerGroup?: string;
  /** The CloudEvents attributes as they are on the wire (not validated: they may be why it was dead-lettered). */
  readonly event: { readonly id?: string; readonly type?: string; readonly correlationId?: string; readonly schemaVersion?: string };
  /**
   * Set on dead letters of a topic with card numbers in clear: `jwe` (the value is the original value sealed to the
   * data-protection key) or `withheld` (no value). Such a dead letter cannot be replayed as it is.
   */
  readonly valueProtection?: string;
  /** Set when this dead letter is itself a replayed message that failed again. */
  readonly replayOf?: string;
  /** Every header as UTF-8 text (original headers and the dead-letter headers). */
  readonly headers: Readonly<Record<string, string>>;
  /** Missing or malformed dead-letter headers; a dead letter without its original topic cannot be replayed. */
  readonly problems: readonly string[];
  /** The key and headers exactly as consumed, for a byte-for-byte replay. */
  readonly rawKey: Buffer | null;
  readonly rawHeaders: IHeaders;
}

export interface DeadLetterFilter {
  /** Only dead letters consumed from this topic. */
  readonly originalTopic?: string;
  /** Error class (exact, case-insensitive) or a piece of the error message (case-insensitive). */
  readonly reason?: string;
  /** Only dead letters a given consumer group gave up on. */
  readonly consumerGroup?: string;
  /** Dead-letter topic partition, and offsets within the dead-letter topic (inclusive). */
  readonly partition?: number;
  readonly fromOffset?: string;
  readonly toOffset?: string;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const REF = /^([A-Za-z0-9._-]+)\/(0|[1-9][0-9]*)\/(0|[1-9][0-9]*)$/;

export function formatRef(ref: MessageRef): string {
  return `${ref.topic}/${ref.partition}/${ref.offset}`;
}

/** Parses `topic/partition/offset` (Kafka topic names cannot contain `/`). */
export function parseRef(text: string): MessageRef {
  const match = REF.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a dead-letter reference: expected <topic>/<partition>/<offset>, e.g. payrail.dlq.fraud-check.v1/2/17`);
  const [, topic = '', partition = '0', offset = '0'] = match;
  return { topic, partition: Number(partition), offset };
}

function headerText(value: IHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

function isoOrUndefined(text: string | undefined, name: string, problems: string[]): string | undefined {
  if (text === undefined) return undefined;
  if (Number.isNaN(Date.parse(text))) {
    problems.push(`${name} is not a timestamp: ${text}`);
    return undefined;
  }
  return text;
}

/** Decodes one message of a dead-letter topic. Never throws: what is missing or malformed goes to `problems`. */
export function parseDeadLetter(topic: string, partition: number, message: KafkaMessage): DeadLetter {
  const rawHeaders = message.headers ?? {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawHeaders)) {
    const text = headerText(value);
    if (text !== undefined) headers[name] = text;
  }
  const problems: string[] = [];
  const originalTopic = headers[DLQ_HEADERS.originalTopic];
  if (!originalTopic) problems.push(`missing header ${DLQ_HEADERS.originalTopic}: cannot be replayed`);
  const partitionText = headers[DLQ_HEADERS.originalPartition];
  const offsetText = headers[DLQ_HEADERS.originalOffset];
  const attemptsText = headers[DLQ_HEADERS.attempts];
  for (const [name, text] of [[DLQ_HEADERS.originalPartition, partitionText], [DLQ_HEADERS.originalOffset, offsetText], [DLQ_HEADERS.attempts, attemptsText]] as const) {
    if (text === undefined) problems.push(`missing header ${name}`);
    else if (!DECIMAL.test(text)) problems.push(`${name} is not a decimal number: ${text}`);
  }
  const timestamp = Number(message.timestamp);
  return {
    ref: { topic, partition, offset: message.offset },
    deadLetteredAt: new Date(Number.isFinite(timestamp) ? timestamp : 0).toISOString(),
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value,
    original: {
      topic: originalTopic || undefined,
      partition: partitionText !== undefined && DECIMAL.test(partitionText) ? Number(partitionText) : undefined,
      offset: offsetText !== undefined && DECIMAL.test(offsetText) ? offsetText : undefined,
    },
    errorClass: headers[DLQ_HEADERS.errorClass],
    errorMessage: headers[DLQ_HEADERS.errorMessage],
    attempts: attemptsText !== undefined && DECIMAL.test(attemptsText) ? Number(attemptsText) : undefined,
    firstFailureAt: isoOrUndefined(headers[DLQ_HEADERS.firstFailureAt], DLQ_HEADERS.firstFailureAt, problems),
    lastFailureAt: isoOrUndefined(headers[DLQ_HEADERS.lastFailureAt], DLQ_HEADERS.lastFailureAt, problems),
    consumerGroup: headers[DLQ_HEADERS.consumerGroup],
    event: { id: headers[CE_HEADERS.id], type: headers[CE_HEADERS.type], correlationId: headers[CE_HEADERS.correlationid], schemaVersion: headers[CE_HEADERS.schemaversion] },
    valueProtection: headers[DLQ_HEADERS.valueProtection],
    replayOf: headers[REPLAY_HEADERS.replayOf],
    headers,
    problems,
    rawKey: message.key,
    rawHeaders,
  };
}

/** Whether a dead letter passes the filter's content conditions (the offset conditions are applied while reading). */
export function matchesFilter(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.originalTopic !== undefined && letter.original.topic !== filter.originalTopic) return false;
  if (filter.consumerGroup !== undefined && letter.consumerGroup !== filter.consumerGroup) return false;
  if (filter.reason !== undefined) {
    const wanted = filter.reason.toLowerCase();
    const byClass = letter.errorClass?.toLowerCase() === wanted;
    const byMessage = letter.errorMessage?.toLowerCase().includes(wanted) ?? false;
    if (!byClass && !byMessage) return false;
  }
  return true;
}

const STRIPPED_ON_REPLAY = new Set<string>([...Object.values(DLQ_HEADERS), ...Object.values(REPLAY_HEADERS)]);

/**
 * The message a replay publishes to the original topic: the original key, value and headers byte for byte, without
 * the dead-letter headers (and without the replay headers of an earlier replay), plus the replay headers.
 */
export function replayMessage(letter: DeadLetter, replayedAt: Date): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(letter.rawHeaders)) {
    if (!STRIPPED_ON_REPLAY.has(name) && value !== undefined) headers[name] = value;
  }
  headers[REPLAY_HEADERS.replayOf] = formatRef(letter.ref);
  headers[REPLAY_HEADERS.replayedAt] = replayedAt.toISOString();
  return { key: letter.rawKey, value: letter.value, headers };
}
