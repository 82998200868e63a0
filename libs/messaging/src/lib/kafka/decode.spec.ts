import { Kafka, KafkaMessage } from 'kafkajs';
import { TOPICS } from '@payrail/contracts';
import { EventProducer } from './event-producer';
import { SchemaInvalidError, UndecodableMessageError, WrongVersionError } from './errors';
import { decode } from './batch-consumer';

// encode() needs no broker: the client is created but never connected
const producer = new EventProducer(new Kafka({ brokers: ['127.0.0.1:1'] }), { source: 'payrail/test' });
const signed = { payment_id: '01936f3e-0000-7000-8000-000000000001', kid: 'kid-1', instruction_jws: 'a.b.c' };

function asConsumed(message: { key?: string | Buffer | null; value: string | Buffer | null; headers?: Record<string, string | Buffer | undefined> }): KafkaMessage {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = Buffer.from(v);
  const consumed = {
    key: message.key === undefined || message.key === null ? null : Buffer.from(message.key),
    value: message.value === null ? null : Buffer.from(message.value),
    headers,
    offset: '0',
    timestamp: '0',
    attributes: 0,
    size: 0,
  };
  return consumed as unknown as KafkaMessage;
}

describe('event encoding and decoding', () => {
  it('round-trips an event through the CloudEvents binary envelope', () => {
    const encoded = producer.encode(TOPICS.paymentsSigned, signed, { key: 'payer-1', correlationId: signed.payment_id, eventId: 'e-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const decoded = decode(TOPICS.paymentsSigned, asConsumed(encoded as never));
    expect(decoded.data).toEqual(signed);
    expect(decoded.envelope).toMatchObject({ id: 'e-1', type: TOPICS.paymentsSigned.eventType, source: 'payrail/test', schemaversion: 1, correlationid: signed.payment_id });
    expect(decoded.envelope.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('refuses to publish data that breaks the topic schema', () => {
    expect(() => producer.encode(TOPICS.paymentsSigned, { ...signed, payment_id: 'nope' }, { key: 'k', correlationId: 'c' })).toThrow();
  });

  it('classifies a message without envelope headers as undecodable', () => {
    expect(() => decode(TOPICS.paymentsSigned, asConsumed({ value: JSON.stringify(signed) }))).toThrow(UndecodableMessageError);
  });

  it('classifies bad JSON as undecodable and a schema break as schema-invalid, naming the field', () => {
    const good = producer.encode(TOPICS.paymentsSigned, signed, { key: 'k', correlationId: 'c' }) as { headers: Record<string, string> };
    expect(() => decode(TOPICS.paymentsSigned, asConsumed({ value: '{not json', headers: good.headers }))).toThrow(UndecodableMessageError);
    expect(() => decode(TOPICS.paymentsSigned, asConsumed({ value: JSON.stringify({ ...signed, kid: 7 }), headers: good.headers }))).toThrow(/kid/);
    expect(() => decode(TOPICS.paymentsSigned, asConsumed({ value: JSON.stringify({ ...signed, kid: 7 }), headers: good.headers }))).toThrow(SchemaInvalidError);
  });

  it('classifies another schema version or event type as wrong-version', () => {
    const good = producer.encode(TOPICS.paymentsSigned, signed, { key: 'k', correlationId: 'c' }) as { headers: Record<string, string> };
    expect(() => decode(TOPICS.paymentsSigned, asConsumed({ value: JSON.stringify(signed), headers: { ...good.headers, ce_schemaversion: '2' } }))).toThrow(WrongVersionError);
    expect(() => decode(TOPICS.paymentsAccepted, asConsumed({ value: JSON.stringify(signed), headers: good.headers }))).toThrow(WrongVersionError);
  });
});
