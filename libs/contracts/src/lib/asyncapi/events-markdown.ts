// Builds docs/events.md, the human view of the topic catalogue, from the same sources as docs/asyncapi.yaml.
import { CE_HEADERS } from '../envelope/envelope';
import { EXAMPLE_KEYS, EXAMPLE_PAYLOADS } from '../examples/examples';
import * as paymentEvents from '../payments/payment-events';
import * as paymentSubmission from '../payments/payment-submission';
import * as securityAlert from '../security/security-alert';
import * as settlementBatch from '../settlement/settlement-batch';
import * as blocklistChange from '../operations/blocklist-change';
import * as operatorAudit from '../operations/operator-audit';
import { CONSUMER_GROUP_SUBSCRIPTIONS, ConsumerGroupKey, OBSERVER_GROUPS, ObserverGroup, consumerGroupFor } from '../topics/consumer-group-subscriptions';
import { allTopicNames, CONSUMER_GROUPS, DEAD_LETTER_TOPICS, DLQ_HEADERS, REPLAY_HEADERS, ServiceName, TopicContract, TopicKey, TOPICS } from '../topics/topics';
import { JWS_FIELDS, JWS_PAYLOAD_SCHEMAS, KEY_ORIGINS } from './annotations';
import { ASYNCAPI_DOCUMENT_PATH, jsonSchemaOf, REGENERATE_COMMAND, strictObjectPaths } from './asyncapi';
import { DLQ_HEADER_DOCS, ENVELOPE_HEADER_DOCS, REPLAY_HEADER_DOCS } from './headers';

export const EVENTS_DOCUMENT_PATH = 'docs/events.md';

const SCHEMA_MODULES: Record<string, unknown>[] = [paymentSubmission, paymentEvents, settlementBatch, securityAlert, blocklistChange, operatorAudit];

/** The exported name of a topic's zod schema, found by identity in the contract modules. */
export function schemaExportName(schema: unknown): string {
  for (const module of SCHEMA_MODULES) {
    for (const [name, value] of Object.entries(module)) if (value === schema) return name;
  }
  return '(unnamed schema)';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)];
}

function code(text: string): string {
  return `\`${text}\``;
}

function jwsLine(key: TopicKey): string[] {
  const jws = JWS_FIELDS[key];
  if (jws === undefined) return [];
  const payload = code(schemaExportName(JWS_PAYLOAD_SCHEMAS[jws.payload]));
  if (jws.encryptedTo) return [`- Signed and encrypted: ${code(jws.field)} is a compact JWE (RFC 7516) encrypted to ${jws.encryptedTo}; its plaintext is a compact JWS (RFC 7515) signed with ${jws.signer}, whose payload is a ${payload}`];
  return [`- Signed: ${code(jws.field)} is a compact JWS (RFC 7515) signed with ${jws.signer}; its payload is a ${payload}`];
}

export function renderEventsMarkdown(): string {
  const topics = Object.entries(TOPICS) as [TopicKey, TopicContract][];
  const partitionsByName = new Map(allTopicNames().map((t) => [t.name, t.partitions]));
  const out: string[] = [
    '<!-- Generated from @payrail/contracts by libs/contracts/src/lib/asyncapi/events-markdown.ts. Do not edit by hand. -->',
    `<!-- Regenerate: ${REGENERATE_COMMAND} -->`,
    '',
    '# Payrail events',
    '',
    'The four services (ingest, signing, fraud-check, settlement) talk only over these Kafka topics. The single source',
    'of truth is `libs/contracts/src/lib/topics/topics.ts` (`TOPICS`, `DEAD_LETTER_TOPICS`, `DLQ_HEADERS`,',
    '`CONSUMER_GROUPS`) with the zod schemas it names; this page and the machine-readable',
    `[AsyncAPI 3.0 document](asyncapi.yaml) (${code(ASYNCAPI_DOCUMENT_PATH)}) are generated from it, and a unit test fails when either`,
    'is out of date.',
    '',
    'Rules that hold on every topic:',
    '',
    '- **Envelope.** CloudEvents 1.0 in Kafka binary content mode: the message value is the event data as JSON, the',
    '  attributes travel as `ce_*` headers and trace context as W3C `traceparent`/`tracestate` (see [Envelope headers](#envelope-headers)).',
    '- **Keys.** The key decides the partition and so the order in which one consumer sees messages; each topic says',
    '  what its key is and why.',
    '- **Versions.** Topic names end in `.vN` and equal `ce_schemaversion`; a breaking schema change gets a new topic and',
    '  both run side by side until consumers have moved. Consumers drop fields they do not know, except in the strict',
    '  objects listed under [Payloads](#payloads), which refuse them.',
    '- **Money.** Integer minor units as a decimal string plus an ISO 4217 code, e.g. `{"minor":"1050","currency":"EUR"}`',
    '  (see [money.md](money.md)).',
    '- **Failures.** A consuming service retries transient errors with backoff; a permanent error (undecodable,',
    '  schema-invalid, wrong version) moves the message at once to the service\'s own dead-letter topic, with its',
    '  original key, value and headers.',
    '',
    '## Topics',
    '',
    ...table(
      ['Topic', 'Event type (`ce_type`)', 'Key', 'Why this key', 'Producers', 'Consumers (consumer group)', 'DLQ', 'Partitions'],
      topics.map(([key, t]) => [
        code(t.name),
        code(t.eventType),
        code(t.key.field),
        t.key.why,
        t.producers.join(', '),
        t.consumers.length === 0 ? '— (external readers)' : t.consumers.map((s) => `${s} (${code(consumerGroupFor(key, s) ?? 'unassigned')})`).join(', '),
        t.consumers.length === 0 ? '—' : t.consumers.map((s) => code(DEAD_LETTER_TOPICS[s])).join(', '),
        String(t.partitions),
      ]),
    ),
    '',
    '## Payloads',
    '',
    'Each payload is the JSON the named zod schema accepts; the JSON Schema of each is in the AsyncAPI document.',
    'Strict objects are given as paths (`$` is the whole message value).',
    '',
  ];
  for (const [key, t] of topics) {
    out.push(
      `### ${code(t.name)}`,
      '',
      t.description,
      '',
      `- Event type: ${code(t.eventType)}, schema version ${t.schemaVersion}`,
      `- Schema: ${code(schemaExportName(t.schema))} (${code('@payrail/contracts')})`,
      `- Key: ${code(t.key.field)}${KEY_ORIGINS[key] === undefined ? '' : ` (${KEY_ORIGINS[key]?.note ?? ''})`}: ${t.key.why}`,
      `- Producers: ${t.producers.join(', ')}; consumers: ${t.consumers.length === 0 ? 'none inside Payrail' : t.consumers.join(', ')}`,
      ...(t.config === undefined ? [] : [`- Topic config: ${Object.entries(t.config).map(([k, v]) => code(`${k}=${v}`)).join(', ')}`]),
      ...jwsLine(key),
      `- Strict objects (unknown fields refused): ${strictObjectPaths(jsonSchemaOf(t.schema)).map(code).join(', ') || 'none'}`,
      '',
      `Example (key ${code(EXAMPLE_KEYS[key])}):`,
      '',
      '```json',
      JSON.stringify(EXAMPLE_PAYLOADS[key], null, 2),
      '```',
      '',
    );
  }
  out.push(
    '## Dead-letter topics',
    '',
    ...table(
      ['DLQ topic', 'Written by', 'Holds messages from', 'Partitions'],
      (Object.entries(DEAD_LETTER_TOPICS) as [ServiceName, string][]).map(([service, name]) => [
        code(name),
        service,
        topics
          .filter(([, t]) => t.consumers.includes(service))
          .map(([, t]) => code(t.name))
          .join(', ') || '—',
        String(partitionsByName.get(name) ?? '?'),
      ]),
    ),
    '',
    'A dead-lettered message keeps its original key, value and headers and gets these headers added:',
    '',
    ...table(
      ['Header', 'Meaning'],
      (Object.entries(DLQ_HEADERS) as [keyof typeof DLQ_HEADERS, string][]).map(([k, header]) => [code(header), DLQ_HEADER_DOCS[k].description]),
    ),
    '',
    'Dead letters are listed, inspected and replayed with `payrail-cli dlq list|inspect|replay` (runbook:',
    '[dead-letters.md](dead-letters.md)). A replay publishes the original key, value and headers back to the original',
    'topic without the `payrail_dlq_*` headers and with these added (the `ce_id` is unchanged, so consumers that already',
    'processed the event drop it as a duplicate):',
    '',
    ...table(
      ['Header', 'Meaning'],
      (Object.entries(REPLAY_HEADERS) as [keyof typeof REPLAY_HEADERS, string][]).map(([k, header]) => [code(header), REPLAY_HEADER_DOCS[k].description]),
    ),
    '',
    '## Consumer groups',
    '',
    ...table(
      ['Group id', 'Service', 'Topics'],
      (Object.entries(CONSUMER_GROUP_SUBSCRIPTIONS) as [ConsumerGroupKey, (typeof CONSUMER_GROUP_SUBSCRIPTIONS)[ConsumerGroupKey]][]).map(([group, s]) => [
        code(CONSUMER_GROUPS[group]),
        s.service,
        s.topics.map((k) => code(TOPICS[k].name)).join(', '),
      ]),
    ),
    '',
    'Read-only observers (`OBSERVER_GROUPS`) are no stage of the flow: they never produce, never dead-letter and commit',
    'no offsets (each start reads the payment topics from their end and the dead-letter topics from their beginning).',
    '',
    ...table(
      ['Observer group id', 'Observer', 'Topics'],
      (Object.entries(OBSERVER_GROUPS) as [string, ObserverGroup][]).map(([name, o]) => [
        code(o.groupId),
        name,
        [...o.topics.map((k) => code(TOPICS[k].name)), ...(o.deadLetters ? ['every dead-letter topic'] : [])].join(', '),
      ]),
    ),
    '',
    '## Envelope headers',
    '',
    'Set by the producer on every message (`envelopeToHeaders`), read back and validated by the consumer',
    '(`headersToEnvelope`, which names every missing or invalid header in its reason). Header values are UTF-8 strings.',
    '',
    ...table(
      ['Header', 'CloudEvents attribute', 'Required', 'Meaning'],
      (Object.entries(CE_HEADERS) as [keyof typeof CE_HEADERS, string][]).map(([k, header]) => {
        const doc = ENVELOPE_HEADER_DOCS[k];
        return [code(header), doc.attribute === '' ? '— (W3C Trace Context)' : code(doc.attribute), doc.required ? 'yes' : 'no', doc.description];
      }),
    ),
    '',
  );
  return out.join('\n');
}
