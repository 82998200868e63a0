// What each Kafka header Payrail sets means: the CloudEvents binary-mode attributes (CE_HEADERS) and the
// dead-letter headers (DLQ_HEADERS) and the headers of a replayed dead letter (REPLAY_HEADERS). Typed by their keys so a new header cannot go undocumented.
import { CE_HEADERS } from '../envelope/envelope';
import { DLQ_HEADERS, REPLAY_HEADERS } from '../topics/topics';
import { JsonObject } from './json';

export interface HeaderDoc {
  /** The CloudEvents attribute (or Payrail extension) the header carries; empty for non-CloudEvents headers. */
  readonly attribute: string;
  readonly required: boolean;
  readonly description: string;
  /** JSON Schema of the header value (Kafka header values are UTF-8 strings). */
  readonly schema: JsonObject;
}

const RFC3339 = 'RFC 3339 timestamp with offset, e.g. 2025-03-01T09:15:02.114Z';

export const ENVELOPE_HEADER_DOCS: Record<keyof typeof CE_HEADERS, HeaderDoc> = {
  specversion: { attribute: 'specversion', required: true, description: 'CloudEvents spec version, always 1.0.', schema: { type: 'string', const: '1.0' } },
  id: {
    attribute: 'id',
    required: true,
    description: 'Event id, unique within its source (CloudEvents: source + id identify an event); a redelivered message carries the same id, so consumers can de-duplicate on it.',
    schema: { type: 'string', minLength: 1 },
  },
  type: { attribute: 'type', required: true, description: "Event type; always the topic's event type (see each message).", schema: { type: 'string', minLength: 1 } },
  source: { attribute: 'source', required: true, description: 'The producer of the event (CloudEvents source, a URI-reference).', schema: { type: 'string', minLength: 1 } },
  time: { attribute: 'time', required: true, description: `When the event happened: ${RFC3339}.`, schema: { type: 'string', format: 'date-time' } },
  subject: { attribute: 'subject', required: false, description: 'Optional CloudEvents subject within the source.', schema: { type: 'string' } },
  dataschema: { attribute: 'dataschema', required: true, description: 'URI of the schema the message value (data) conforms to, e.g. urn:payrail:schema:payrail.payments.signed.v1.', schema: { type: 'string', minLength: 1 } },
  schemaversion: {
    attribute: 'schemaversion',
    required: true,
    description: 'Payrail extension: schema version of the data, a positive integer in decimal; equals the topic name suffix (.v1 -> 1). A breaking change gets a new topic.',
    schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
  },
  correlationid: {
    attribute: 'correlationid',
    required: true,
    description: 'Payrail extension: the payment id (or settlement batch id) the whole flow correlates on.',
    schema: { type: 'string', minLength: 1 },
  },
  contentType: { attribute: 'datacontenttype', required: true, description: 'Content type of the message value, always application/json.', schema: { type: 'string', const: 'application/json' } },
  traceparent: {
    attribute: '',
    required: false,
    description: 'W3C Trace Context traceparent (version-traceid-parentid-flags, lower-case hex), e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.',
    schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
  },
  tracestate: { attribute: '', required: false, description: 'W3C Trace Context tracestate, passed on unchanged.', schema: { type: 'string' } },
};

export const DLQ_HEADER_DOCS: Record<keyof typeof DLQ_HEADERS, Omit<HeaderDoc, 'attribute' | 'required'>> = {
  originalTopic: { description: 'Topic the message was consumed from.', schema: { type: 'string', minLength: 1 } },
  originalPartition: { description: 'Partition it was consumed from (decimal).', schema: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' } },
  originalOffset: { description: 'Offset it had there (decimal).', schema: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' } },
  errorClass: { description: 'Class (name) of the error that dead-lettered it, e.g. SchemaInvalidError.', schema: { type: 'string', minLength: 1 } },
  errorMessage: { description: 'The error message, cut to 1000 characters; must never contain card or account data.', schema: { type: 'string' } },
  attempts: { description: 'How many times the handler was tried (decimal).', schema: { type: 'string', pattern: '^[1-9][0-9]*$' } },
  firstFailureAt: { description: `First failed attempt: ${RFC3339}.`, schema: { type: 'string', format: 'date-time' } },
  lastFailureAt: { description: `Last failed attempt: ${RFC3339}.`, schema: { type: 'string', format: 'date-time' } },
  consumerGroup: { description: 'Consumer group that gave up on it (see CONSUMER_GROUPS).', schema: { type: 'string', minLength: 1 } },
  valueProtection: {
    description: 'Only on dead letters of a topic with card numbers in clear (the inbound topic): `jwe` when the value is the original value as a compact JWE to the data-protection key, `withheld` when no value was kept. Such a dead letter is not replayed as it is.',
    schema: { type: 'string', enum: ['jwe', 'withheld'] },
  },
};

export const REPLAY_HEADER_DOCS: Record<keyof typeof REPLAY_HEADERS, Omit<HeaderDoc, 'attribute' | 'required'>> = {
  replayOf: {
    description: 'The dead letter this message is a replay of, as <dead-letter topic>/<partition>/<offset>, e.g. payrail.dlq.fraud-check.v1/2/17 (payrail-cli dlq inspect takes it as is).',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._-]+/(0|[1-9][0-9]*)/(0|[1-9][0-9]*)$' },
  },
  replayedAt: { description: `When it was replayed: ${RFC3339}.`, schema: { type: 'string', format: 'date-time' } },
};
