import { CE_HEADERS, DLQ_HEADERS, REPLAY_HEADERS } from '@payrail/contracts';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { formatRef, matchesFilter, parseDeadLetter, parseRef, replayMessage } from './dead-letter';

const DLQ = 'payrail.dlq.fraud-check.v1';

function consumed(headers: Record<string, string>, extra: Partial<KafkaMessage> = {}): KafkaMessage {
  const raw: IHeaders = {};
  for (const [k, v] of Object.entries(headers)) raw[k] = Buffer.from(v);
  return { key: Buffer.from('payer-7'), value: Buffer.from('{"payment_id":"p-1"}'), headers: raw, offset: '17', timestamp: '1740820502500', attributes: 0, ...extra } as KafkaMessage;
}

const dlqHeaders = {
  [CE_HEADERS.id]: 'evt-1',
  [CE_HEADERS.type]: 'dev.payrail.payment.signed.v1',
  [CE_HEADERS.schemaversion]: '1',
  [CE_HEADERS.correlationid]: 'p-1',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  [DLQ_HEADERS.originalTopic]: 'payrail.payments.signed.v1',
  [DLQ_HEADERS.originalPartition]: '4',
  [DLQ_HEADERS.originalOffset]: '90071992547409930',
  [DLQ_HEADERS.errorClass]: 'SchemaInvalidError',
  [DLQ_HEADERS.errorMessage]: 'schema: payment_id: Invalid UUID',
  [DLQ_HEADERS.attempts]: '1',
  [DLQ_HEADERS.firstFailureAt]: '2025-03-01T09:15:02.114Z',
  [DLQ_HEADERS.lastFailureAt]: '2025-03-01T09:15:02.114Z',
  [DLQ_HEADERS.consumerGroup]: 'payrail-fraud-check',
};

describe('dead letters', () => {
  it('decodes where a dead letter came from and why it failed, keeping offsets beyond 2^53 exact', () => {
    const letter = parseDeadLetter(DLQ, 2, consumed(dlqHeaders));
    expect(letter.ref).toEqual({ topic: DLQ, partition: 2, offset: '17' });
    expect(letter.deadLetteredAt).toBe('2025-03-01T09:15:02.500Z');
    expect(letter.original).toEqual({ topic: 'payrail.payments.signed.v1', partition: 4, offset: '90071992547409930' });
    expect(letter).toMatchObject({ errorClass: 'SchemaInvalidError', attempts: 1, consumerGroup: 'payrail-fraud-check', key: 'payer-7', problems: [] });
    expect(letter.event).toEqual({ id: 'evt-1', type: 'dev.payrail.payment.signed.v1', correlationId: 'p-1', schemaVersion: '1' });
  });

  it('reads whether the value of a dead letter was sealed or withheld (card numbers in clear on its topic)', () => {
    expect(parseDeadLetter(DLQ, 0, consumed({ ...dlqHeaders, [DLQ_HEADERS.valueProtection]: 'jwe' })).valueProtection).toBe('jwe');
    expect(parseDeadLetter(DLQ, 0, consumed(dlqHeaders)).valueProtection).toBeUndefined();
  });

  it('names missing and malformed dead-letter headers instead of failing', () => {
    const letter = parseDeadLetter(DLQ, 0, consumed({ [DLQ_HEADERS.originalPartition]: 'two', [DLQ_HEADERS.lastFailureAt]: 'yesterday' }, { key: null }));
    expect(letter.original).toEqual({ topic: undefined, partition: undefined, offset: undefined });
    expect(letter.key).toBeNull();
    expect(letter.problems).toEqual([
      `missing header ${DLQ_HEADERS.originalTopic}: cannot be replayed`,
      `${DLQ_HEADERS.originalPartition} is not a decimal number: two`,
      `missing header ${DLQ_HEADERS.originalOffset}`,
      `missing header ${DLQ_HEADERS.attempts}`,
      `${DLQ_HEADERS.lastFailureAt} is not a timestamp: yesterday`,
    ]);
  });

  it('filters by original topic, consumer group, and reason (error class or a piece of the message, any case)', () => {
    const letter = parseDeadLetter(DLQ, 2, consumed(dlqHeaders));
    expect(matchesFilter(letter, {})).toBe(true);
    expect(matchesFilter(letter, { reason: 'schemainvaliderror' })).toBe(true);
    expect(matchesFilter(letter, { reason: 'invalid uuid' })).toBe(true);
    expect(matchesFilter(letter, { reason: 'Schema' })).toBe(true); // part of the message "schema: ..."
    expect(matchesFilter(letter, { reason: 'WrongVersionError' })).toBe(false);
    expect(matchesFilter(letter, { originalTopic: 'payrail.payments.signed.v1', consumerGroup: 'payrail-fraud-check' })).toBe(true);
    expect(matchesFilter(letter, { originalTopic: 'payrail.payments.accepted.v1' })).toBe(false);
    expect(matchesFilter(letter, { consumerGroup: 'payrail-ingest-status' })).toBe(false);
  });

  it('replays the original key, value and headers byte for byte, without dead-letter headers, with the replay headers', () => {
    const binary = Buffer.from([0xff, 0x00, 0xfe]);
    const message = consumed({ ...dlqHeaders, [REPLAY_HEADERS.replayOf]: 'payrail.dlq.fraud-check.v1/0/3' }, { key: binary });
    const letter = parseDeadLetter(DLQ, 2, message);
    const replay = replayMessage(letter, new Date('2025-03-02T10:00:00.000Z'));
    expect(replay.key).toBe(binary);
    expect(replay.value).toBe(message.value);
    const headers = replay.headers ?? {};
    for (const header of Object.values(DLQ_HEADERS)) expect(headers[header]).toBeUndefined();
    expect(headers[CE_HEADERS.id]).toBe(message.headers?.[CE_HEADERS.id]);
    expect(headers['traceparent']).toBe(message.headers?.['traceparent']);
    expect(headers[REPLAY_HEADERS.replayOf]).toBe('payrail.dlq.fraud-check.v1/2/17');
    expect(headers[REPLAY_HEADERS.replayedAt]).toBe('2025-03-02T10:00:00.000Z');
  });

  it('writes and reads dead-letter references', () => {
    expect(formatRef({ topic: DLQ, partition: 2, offset: '17' })).toBe('payrail.dlq.fraud-check.v1/2/17');
    expect(parseRef(' payrail.dlq.fraud-check.v1/2/17 ')).toEqual({ topic: DLQ, partition: 2, offset: '17' });
    expect(() => parseRef('payrail.dlq.fraud-check.v1:2:17')).toThrow('expected <topic>/<partition>/<offset>');
    expect(() => parseRef('payrail.dlq.fraud-check.v1/2/-1')).toThrow('not a dead-letter reference');
  });
});
