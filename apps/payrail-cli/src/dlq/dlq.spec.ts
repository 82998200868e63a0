import { DEAD_LETTER_TOPICS } from '@payrail/contracts';
import { DeadLetter } from '@payrail/messaging';
import { UsageError, parseDlqCommand } from './dlq.command';
import { deadLetterJson, inspectText, listTable, replayTable, table, valueView } from './dlq.view';

const letter: DeadLetter = {
  ref: { topic: 'payrail.dlq.ingest.v1', partition: 1, offset: '42' },
  deadLetteredAt: '2025-03-01T09:15:03.000Z',
  key: 'payer-7',
  value: Buffer.from(JSON.stringify({ jws: 'eyJhbGciOiJFUzI1NiJ9.eyJwYXltZW50Ijp7ImNhcmQiOiI0MTExMTExMTExMTExMTExIn19.c2lnbmF0dXJlLWJ5dGVzLWhlcmU', pan: '4111111111111111', amount_minor: '123456789012345' })),
  original: { topic: 'payrail.payments.inbound.v1', partition: 3, offset: '1001' },
  errorClass: 'UndecodableMessageError',
  errorMessage: 'envelope: missing header ce_id',
  attempts: 1,
  firstFailureAt: '2025-03-01T09:15:02.114Z',
  lastFailureAt: '2025-03-01T09:15:02.114Z',
  consumerGroup: 'payrail-ingest-inbound',
  event: { type: 'dev.payrail.payment.submitted.v1' },
  headers: { ce_type: 'dev.payrail.payment.submitted.v1' },
  problems: [],
  rawKey: Buffer.from('payer-7'),
  rawHeaders: {},
};

describe('payrail dlq command line', () => {
  it('reads every dead-letter topic by default and a service name as its dead-letter topic', () => {
    expect(parseDlqCommand(['list']).topics).toEqual(Object.values(DEAD_LETTER_TOPICS));
    expect(parseDlqCommand(['list']).limit).toBe(100);
    const c = parseDlqCommand(['list', '--topic', 'fraud-check', '--topic', 'payrail.dlq.ingest.v1', '--reason', 'SchemaInvalidError', '--original-topic', 'payrail.payments.signed.v1', '--json']);
    expect(c.topics).toEqual(['payrail.dlq.fraud-check.v1', 'payrail.dlq.ingest.v1']);
    expect(c.filter).toMatchObject({ reason: 'SchemaInvalidError', originalTopic: 'payrail.payments.signed.v1' });
    expect(c.json).toBe(true);
  });

  it('takes references or a selection for a replay, never neither nor both', () => {
    const byRef = parseDlqCommand(['replay', 'payrail.dlq.ingest.v1/1/42', 'payrail.dlq.ingest.v1/1/43', '--dry-run']);
    expect(byRef.refs).toEqual([{ topic: 'payrail.dlq.ingest.v1', partition: 1, offset: '42' }, { topic: 'payrail.dlq.ingest.v1', partition: 1, offset: '43' }]);
    expect(byRef.dryRun).toBe(true);
    expect(byRef.limit).toBeUndefined(); // a replay takes everything selected unless told otherwise
    expect(parseDlqCommand(['replay', '--all']).topics).toHaveLength(4);
    expect(() => parseDlqCommand(['replay'])).toThrow('say which dead letters to replay');
    expect(() => parseDlqCommand(['replay', 'payrail.dlq.ingest.v1/1/42', '--reason', 'x'])).toThrow('not both');
  });

  it('refuses what it cannot use, naming the option', () => {
    expect(() => parseDlqCommand([])).toThrow(UsageError);
    expect(() => parseDlqCommand(['purge'])).toThrow('unknown dlq command "purge"');
    expect(() => parseDlqCommand(['list', '--limit', '0'])).toThrow('--limit must be a whole number >= 1');
    expect(() => parseDlqCommand(['list', '--partition', 'one'])).toThrow('--partition must be a whole number');
    expect(() => parseDlqCommand(['list', '--from-offset', '-3', '--topic', 'ingest'])).toThrow('--from-offset');
    expect(() => parseDlqCommand(['list', '--from-offset', '3'])).toThrow('needs one --topic');
    expect(() => parseDlqCommand(['list', '--colour'])).toThrow(UsageError);
    expect(() => parseDlqCommand(['inspect'])).toThrow('one REF');
    expect(() => parseDlqCommand(['inspect', 'payrail.dlq.ingest.v1:1:42'])).toThrow('<topic>/<partition>/<offset>');
  });
});

describe('payrail dlq output', () => {
  it('aligns table columns', () => {
    expect(table(['A', 'BB'], [['xxx', 'y'], ['z', 'long']])).toBe('A    BB\nxxx  y\nz    long');
  });

  it('lists a dead letter with where it came from and why, and its replay state when the ledger is known', () => {
    const [head, row] = listTable([letter], new Map()).split('\n');
    expect(head).toMatch(/^DEAD LETTER\s+DEAD-LETTERED AT\s+ORIGINAL\s+ERROR\s+ATTEMPTS\s+REPLAYED\s+REASON$/);
    expect(row).toContain('payrail.dlq.ingest.v1/1/42');
    expect(row).toContain('payrail.payments.inbound.v1/3/1001');
    expect(row).toContain('UndecodableMessageError');
    expect(row).toMatch(/\bno\s+envelope: missing header ce_id$/);
    expect(listTable([letter])).not.toContain('REPLAYED');
  });

  it('redacts card numbers and JOSE tokens in values unless asked for the raw value', () => {
    const redacted = valueView(letter.value, false);
    expect(redacted).toEqual({ encoding: 'json', value: { jws: '<compact JOSE token, 3 parts, 101 chars>', pan: '************1111', amount_minor: '123456789012345' } });
    expect(JSON.stringify(valueView(letter.value, true))).toContain('4111111111111111');
    expect(valueView(Buffer.from([0xff, 0xfe]), true)).toEqual({ encoding: 'base64', value: '//4=' });
    expect(valueView(null, false)).toEqual({ encoding: 'none' });
    const text = inspectText(letter, undefined, false, false);
    expect(text).not.toContain('4111111111111111');
    expect(text).toContain('replayed          unknown (set REDIS_URL to read the replay ledger)');
    expect(text).toContain('value (');
  });

  it('says when a dead letter of the inbound topic is sealed and shows only the JWE, also with --show-value', () => {
    const jwe = 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJwZGxxIjoxfQ.ZW5j.aXY.Y2lwaGVy.dGFn';
    const sealed: DeadLetter = { ...letter, value: Buffer.from(jwe), valueProtection: 'jwe' };
    const shown = inspectText(sealed, undefined, false, true);
    expect(shown).toContain('value protection  sealed: a JWE to the data-protection key');
    expect(shown).toContain('--show-value prints the JWE, never the card number');
    expect(shown).toContain(jwe);
    expect(deadLetterJson(sealed).value_protection).toBe('jwe');
    expect(deadLetterJson(letter).value_protection).toBeNull();
  });

  it('summarises a replay with one line per dead letter and the counts', () => {
    const text = replayTable({
      dryRun: true,
      outcomes: [{ ref: letter.ref, status: 'would-replay', target: { topic: 'payrail.payments.inbound.v1', partition: 3 } }],
      counts: { replayed: 0, 'would-replay': 1, 'already-replayed': 0, 'in-progress': 0, 'not-replayable': 0, 'not-found': 0, failed: 0 },
    });
    expect(text).toContain('payrail.dlq.ingest.v1/1/42  would-replay  payrail.payments.inbound.v1/3');
    expect(text.split('\n').pop()).toBe('dry run, nothing published: 1 would-replay');
  });
});
