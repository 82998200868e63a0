// The kafkajs record codec Payrail patches (patches/kafkajs+2.2.4.patch, applied by `patch-package` on install and
// in the Docker build): the patched encoder must write exactly the bytes kafkajs 2.2.4's own encoder wrote, and the
// patched decoder must give the same headers object, for any record. The reference below is kafkajs's unpatched
// encoder, rebuilt from its own parts (Encoder, the v0 header encoder).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol internals have no ES exports or types */
type EncoderLike = { buffer: Buffer };
type EncoderClass = {
  new (): EncoderChain;
  sizeOfVarInt(n: number): number;
  sizeOfVarLong(n: number): number;
  sizeOfVarIntBytes(v: unknown): number;
};
type EncoderChain = EncoderLike & {
  writeVarInt(n: number): EncoderChain;
  writeInt8(n: number): EncoderChain;
  writeVarLong(n: number): EncoderChain;
  writeVarIntBytes(v: unknown): EncoderChain;
  writeVarIntArray(v: unknown[]): EncoderChain;
};
type Headers = Record<string, string | Buffer | null | (string | Buffer)[]>;
type RecordInput = { offsetDelta?: number; timestampDelta?: number; key: string | Buffer | null; value: string | Buffer | null; headers?: Headers };
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const Header = require('kafkajs/src/protocol/recordBatch/header/v0') as (h: { key: string; value: unknown }) => EncoderLike;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: RecordInput) => EncoderLike;
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  decoder: unknown,
  context: object,
) => { key: Buffer | null; value: Buffer | null; offset: string; headers: Record<string, Buffer | Buffer[]> };
const recordModulePath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0');
/* eslint-enable @typescript-eslint/no-require-imports */

/** kafkajs 2.2.4's record encoder as published: one Encoder per header, copied into the record's. */
function referenceRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): Buffer {
  const headersArray = Object.keys(headers).flatMap((name) => {
    const v = headers[name];
    return Array.isArray(v) ? v.map((value) => ({ key: name, value })) : [{ key: name, value: v }];
  });
  let sizeOfHeaders = Encoder.sizeOfVarInt(headersArray.length);
  for (const h of headersArray) {
    const keySize = Buffer.byteLength(h.key);
    sizeOfHeaders += Encoder.sizeOfVarInt(keySize) + keySize;
    sizeOfHeaders += h.value === null || h.value === undefined ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarIntBytes(h.value);
  }
  const sizeOfBody = 1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + sizeOfHeaders;
  return new Encoder()
    .writeVarInt(sizeOfBody)
    .writeInt8(0)
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(headersArray.map(Header)).buffer;
}

function decodeRecord(bytes: Buffer) {
  const decoder = new Decoder(bytes) as { readVarInt(): number };
  decoder.readVarInt(); // the record's length
  return RecordDecoder(decoder, { firstOffset: '100', firstTimestamp: '1700000000000', magicByte: 2 });
}

const bytesOrText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)));
const headerValue = fc.oneof(bytesOrText, fc.array(bytesOrText, { minLength: 1, maxLength: 3 }));
const records = fc.record({
  offsetDelta: fc.integer({ min: 0, max: 100_000 }),
  timestampDelta: fc.integer({ min: 0, max: 10_000_000 }),
  key: fc.oneof(fc.constant(null), bytesOrText),
  value: fc.oneof(fc.constant(null), bytesOrText, fc.string({ unit: 'binary', minLength: 600, maxLength: 3_000 })),
  headers: fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), headerValue, { maxKeys: 12 }),
});

describe('kafkajs record codec (patched)', () => {
  it('is the patched one: the install applied patches/ (npm install runs patch-package)', () => {
    expect(readFileSync(recordModulePath, 'utf8')).toContain('Payrail patch');
  });

  it('encodes every record to the same bytes as kafkajs 2.2.4 did', () => {
    fc.assert(
      fc.property(records, (record) => {
        expect(Record(record).buffer.equals(referenceRecord(record))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('encodes a CloudEvents binary-mode record (nine headers, ~1 KB value) to the same bytes', () => {
    const record: RecordInput = {
      offsetDelta: 7,
      timestampDelta: 12,
      key: 'm-00042',
      value: JSON.stringify({ payment_id: 'p-1', note: 'x'.repeat(1_000) }),
      headers: {
        ce_specversion: '1.0',
        ce_id: '0b6a3c2e-8f0e-4c1e-9a51-3b3f1c0e8d11',
        ce_type: 'payrail.payment.screened',
        ce_source: 'payrail/fraud-check',
        ce_time: '2026-11-29T19:35:19.000Z',
        ce_dataschema: 'urn:payrail:schema:payrail.payments.screened.v1',
        ce_schemaversion: '1',
        ce_correlationid: 'p-1',
        'content-type': 'application/json',
      },
    };
    expect(Record(record).buffer.equals(referenceRecord(record))).toBe(true);
  });

  it('decodes headers as kafkajs did for ordinary names: one value per header, an array for a repeated one', () => {
    fc.assert(
      fc.property(records, (record) => {
        const decoded = decodeRecord(Record(record).buffer);
        const expected: Record<string, Buffer | Buffer[]> = {};
        for (const [name, v] of Object.entries(record.headers)) {
          const asBuffer = (x: string | Buffer): Buffer => (typeof x === 'string' ? Buffer.from(x) : x);
          Object.defineProperty(expected, name, { value: Array.isArray(v) ? (v.length === 1 ? asBuffer(v[0] as string | Buffer) : v.map(asBuffer)) : asBuffer(v as string | Buffer), enumerable: true, writable: true, configurable: true });
        }
        expect(decoded.headers).toEqual(expected);
        expect(decoded.offset).toBe(String(100 + record.offsetDelta));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes a header named like an Object.prototype member as its own value (kafkajs gave [inherited, value]), never touching the prototype', () => {
    const names = ['__proto__', 'toString', 'constructor', 'valueOf', 'hasOwnProperty'];
    const headers: Headers = {};
    for (const name of names) Object.defineProperty(headers, name, { value: `v-${name}`, enumerable: true });
    const back = decodeRecord(Record({ key: null, value: '{}', headers }).buffer);
    expect(Object.getPrototypeOf(back.headers)).toBe(Object.prototype);
    for (const name of names) expect(Object.getOwnPropertyDescriptor(back.headers, name)?.value).toEqual(Buffer.from(`v-${name}`));
  });

  it('encodes multi-byte UTF-8 header names and values to the same bytes', () => {
    const record: RecordInput = { key: 'ключ', value: '{"note":"€ 🚀"}', headers: { 'ce_sübject': 'zahlung für händler', emoji: ['🚀', '✓'] } };
    expect(Record(record).buffer.equals(referenceRecord(record))).toBe(true);
    const back = decodeRecord(Record(record).buffer);
    expect(back.headers['ce_sübject']).toEqual(Buffer.from('zahlung für händler'));
    expect(back.headers['emoji']).toEqual([Buffer.from('🚀'), Buffer.from('✓')]);
  });
});
