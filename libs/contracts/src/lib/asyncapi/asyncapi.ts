// Builds docs/asyncapi.yaml (AsyncAPI 3.0) from the contracts themselves: the topic catalogue (TOPICS,
// DEAD_LETTER_TOPICS, CONSUMER_GROUPS), the CloudEvents envelope headers and JSON Schema generated from the zod
// schemas. The unit tests regenerate it and fail when the committed file differs, so the document cannot drift.
//
// Tooling only: not exported from the package index (services do not need it, nor `yaml`).
import { Document, isScalar, visit } from 'yaml';
import { z } from 'zod';
import { EXAMPLE_KEYS, EXAMPLE_PAYLOADS } from '../examples/examples';
import { MoneySchema } from '../money/money.schema';
import { OBSERVER_GROUPS, ObserverGroup, consumerGroupFor } from '../topics/consumer-group-subscriptions';
import { allTopicNames, DEAD_LETTER_TOPICS, DLQ_HEADERS, REPLAY_HEADERS, ServiceName, TopicContract, TopicKey, TOPICS } from '../topics/topics';
import { CE_HEADERS } from '../envelope/envelope';
import { JWS_FIELDS, JWS_PAYLOAD_SCHEMAS, JwsPayloadName, KEY_ORIGINS } from './annotations';
import { DLQ_HEADER_DOCS, ENVELOPE_HEADER_DOCS } from './headers';
import { canonicalJson, isJsonObject, JsonObject, JsonValue, toJsonObject, toJsonValue } from './json';

/** Where the generated document lives, relative to the workspace root. */
export const ASYNCAPI_DOCUMENT_PATH = 'docs/asyncapi.yaml';
/** How to regenerate the generated docs (run from the workspace root). */
export const REGENERATE_COMMAND = 'node -r @swc-node/register libs/contracts/src/lib/asyncapi/write-asyncapi.ts';

const KAFKA_BINDING_VERSION = '0.5.0';

type Producer = TopicContract['producers'][number];

const PARTICIPANTS: Record<Producer, string> = {
  upstream: 'External: the systems that submit payments to Payrail (over HTTP or the inbound topic).',
  ingest: 'Entry point: authenticates, validates, de-duplicates and protects submitted payments; follows each payment to report its status.',
  signing: "Signs payment instructions and settlement batch reports with Payrail's keys.",
  'fraud-check': 'Screens signed payments: APPROVE, REVIEW or DECLINE.',
  settlement: 'Posts approved payments to the double-entry ledger and closes settlement batches.',
  console: "The operators' console: its audit trail.",
};

/** Schemas shown once under components.schemas and referenced wherever they appear inside a payload. */
const SHARED_SCHEMAS = { Money: MoneySchema } as const;

const SHARED_DESCRIPTIONS: Record<keyof typeof SHARED_SCHEMAS, string> = {
  Money:
    'An amount in integer minor units of an ISO 4217 currency (see docs/money.md). Producers write `minor` as a decimal string ("1050" = 10.50 EUR); consumers also accept a JSON integer up to 2^53-1. Never a decimal fraction, never negative, at most 10^15.',
};

const JWS_DESCRIPTIONS: Record<JwsPayloadName, string> = {
  SignedSubmissionClaims: 'The claims an upstream signs (payload of the JWS on the inbound topic and of POST /v1/payments): freshness (iat), replay guard (jti) and the payment.',
  PaymentInstruction: "The payment instruction Payrail signs (payload of `instruction_jws`, canonical JSON per RFC 8785): the accepted payment plus signed_at.",
  SettlementBatchReport: 'A closed settlement batch: what Payrail owes one merchant in one currency, net of fees (also the payload of `report_jws`).',
};

/** JSON Schema (draft-07, the base of AsyncAPI's schema object) of what a consumer's zod schema accepts. */
export function jsonSchemaOf(schema: z.ZodType): JsonObject {
  const generated = toJsonObject(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }));
  delete generated['$schema'];
  return generated;
}

const sharedByShape = new Map<string, string>(
  (Object.keys(SHARED_SCHEMAS) as (keyof typeof SHARED_SCHEMAS)[]).map((name) => [canonicalJson(jsonSchemaOf(SHARED_SCHEMAS[name])), name]),
);

/** Replaces every sub-schema equal to a shared schema by a reference to it. */
function referenceShared(node: JsonValue): JsonValue {
  if (Array.isArray(node)) return node.map(referenceShared);
  if (!isJsonObject(node)) return node;
  const shared = sharedByShape.get(canonicalJson(node));
  if (shared !== undefined) return { $ref: `#/components/schemas/${shared}` };
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = referenceShared(value);
  return out;
}

/**
 * Where a JSON Schema refuses unknown fields (`additionalProperties: false`, from a strict zod object), as dotted
 * paths; `$` is the message itself. Everywhere else consumers drop fields they do not know.
 */
export function strictObjectPaths(schema: JsonValue | undefined, path = '$'): string[] {
  if (!isJsonObject(schema)) return [];
  const found = schema['additionalProperties'] === false ? [path] : [];
  const properties = schema['properties'];
  if (isJsonObject(properties)) {
    for (const [name, property] of Object.entries(properties)) found.push(...strictObjectPaths(property, path === '$' ? name : `${path}.${name}`));
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf']) {
    const options = schema[keyword];
    if (Array.isArray(options)) for (const option of options) found.push(...strictObjectPaths(option, path));
  }
  const items = schema['items'];
  if (items !== undefined) found.push(...strictObjectPaths(items, `${path}[]`));
  return [...new Set(found)];
}

function payloadSchema(key: TopicKey, topic: TopicContract): JsonObject {
  const jwsPayload = (Object.keys(JWS_PAYLOAD_SCHEMAS) as JwsPayloadName[]).find((name) => JWS_PAYLOAD_SCHEMAS[name] === topic.schema);
  if (jwsPayload !== undefined) return { $ref: `#/components/schemas/${jwsPayload}` };
  const schema = toJsonObject(referenceShared(jsonSchemaOf(topic.schema)));
  const jws = JWS_FIELDS[key];
  if (jws !== undefined) {
    const properties = schema['properties'];
    const property = isJsonObject(properties) ? properties[jws.field] : undefined;
    if (!isJsonObject(properties) || !isJsonObject(property)) throw new Error(`${topic.name}: payload has no ${jws.field} property`);
    properties[jws.field] = {
      ...property,
      description: jws.encryptedTo
        ? `Compact JWE (RFC 7516) encrypted to ${jws.encryptedTo}; its plaintext is a compact JWS (RFC 7515) signed with ${jws.signer}, whose payload is a ${jws.payload} (see x-jws-payload).`
        : `Compact JWS (RFC 7515) signed with ${jws.signer}; its payload is a ${jws.payload} (see x-jws-payload).`,
      'x-jws-payload': { $ref: `#/components/schemas/${jws.payload}` },
    };
  }
  return schema;
}

function envelopeHeadersSchema(topic: TopicContract): JsonObject {
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const [attribute, header] of Object.entries(CE_HEADERS) as [keyof typeof CE_HEADERS, string][]) {
    const doc = ENVELOPE_HEADER_DOCS[attribute];
    let schema: JsonObject = { ...doc.schema };
    if (attribute === 'type') schema = { type: 'string', const: topic.eventType };
    if (attribute === 'schemaversion') schema = { type: 'string', const: String(topic.schemaVersion) };
    properties[header] = { ...schema, description: doc.description };
    if (doc.required) required.push(header);
  }
  return {
    type: 'object',
    description: 'CloudEvents 1.0 attributes in Kafka binary content mode (ce_* headers, UTF-8 strings) plus W3C Trace Context.',
    properties,
    required,
  };
}

function deadLetterHeadersSchema(): JsonObject {
  const properties: JsonObject = {};
  for (const [key, header] of Object.entries(DLQ_HEADERS) as [keyof typeof DLQ_HEADERS, string][]) {
    const doc = DLQ_HEADER_DOCS[key];
    properties[header] = { ...doc.schema, description: doc.description };
  }
  return {
    type: 'object',
    description: "The original message's headers (ce_*, traceparent, ...) unchanged, plus the payrail_dlq_* headers below.",
    properties,
    required: Object.values(DLQ_HEADERS).filter((h) => h !== DLQ_HEADERS.valueProtection),
    additionalProperties: true,
  };
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function pascal(name: string): string {
  const c = camel(name);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

function title(key: string): string {
  const words = key.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function deadLetterChannelId(service: ServiceName): string {
  return `deadLetter${pascal(service)}`;
}

/** The Kafka channel binding's topicConfiguration for the settings AsyncAPI knows (cleanup.policy, retention.ms). */
function topicConfiguration(topic: TopicContract): JsonObject {
  const config = topic.config;
  if (config === undefined) return {};
  const out: JsonObject = {};
  const policy = config['cleanup.policy'];
  if (policy !== undefined) out['cleanup.policy'] = policy.split(',');
  const retention = config['retention.ms'];
  if (retention !== undefined) out['retention.ms'] = Number(retention);
  return { topicConfiguration: out };
}

function topicEntries(): [TopicKey, TopicContract][] {
  return Object.entries(TOPICS) as [TopicKey, TopicContract][];
}

function consumersText(key: TopicKey, topic: TopicContract): string {
  if (topic.consumers.length === 0) return 'none inside Payrail (read by external systems)';
  return topic.consumers.map((s) => `${s} (group ${consumerGroupFor(key, s) ?? 'unassigned'}, DLQ ${DEAD_LETTER_TOPICS[s]})`).join(', ');
}

function topicMessage(key: TopicKey, topic: TopicContract): JsonObject {
  const jws = JWS_FIELDS[key];
  const origin = KEY_ORIGINS[key];
  const lines = [
    topic.description,
    '',
    `Message key: \`${topic.key.field}\`${origin === undefined ? '' : ` (${origin.note})`}: ${topic.key.why}.`,
    '',
    `Produced by: ${topic.producers.join(', ')}. Consumed by: ${consumersText(key, topic)}.`,
  ];
  if (jws !== undefined) {
    const what = jws.encryptedTo ? 'a compact JWE whose plaintext is a compact JWS (nested) whose payload' : 'a compact JWS whose payload';
    lines.push('', `\`${jws.field}\` is ${what} is a ${jws.payload} (components/schemas/${jws.payload}).`);
  }
  return {
    name: topic.eventType,
    title: title(key),
    summary: topic.description,
    description: lines.join('\n'),
    contentType: 'application/json',
    correlationId: { $ref: '#/components/correlationIds/payrailCorrelationId' },
    headers: envelopeHeadersSchema(topic),
    payload: payloadSchema(key, topic),
    bindings: {
      kafka: {
        key: { type: 'string', description: `${topic.key.field}: ${topic.key.why}` },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
    examples: [{ name: `${key}Example`, summary: `A ${topic.eventType} event, produced with key ${EXAMPLE_KEYS[key]}`, payload: toJsonValue(EXAMPLE_PAYLOADS[key]) }],
    'x-payrail-key': origin === undefined ? { field: topic.key.field, why: topic.key.why } : { field: topic.key.field, why: topic.key.why, origin: origin.note },
  };
}

function deadLetterMessage(): JsonObject {
  return {
    name: 'dev.payrail.dead-letter',
    title: 'Dead letter',
    summary: 'A message a consuming stage gave up on, kept with its original key, value and headers.',
    description: [
      'A permanent error (undecodable, schema-invalid, wrong version, business-invalid) dead-letters a message at once; a transient error is retried with backoff first.',
      'The key, value and headers are the original message\'s, byte for byte (the value may not even be JSON); the payrail_dlq_* headers say where it came from and why it failed.',
      `\`payrail-cli dlq replay\` publishes it back to its original topic, once per dead letter: same key, value and headers, without the payrail_dlq_* headers, plus ${Object.values(REPLAY_HEADERS).join(' and ')}.`,
    ].join('\n'),
    headers: deadLetterHeadersSchema(),
    payload: { description: "The original message's value, unchanged (normally JSON of the original topic's schema, but possibly undecodable)." },
    bindings: { kafka: { key: { type: 'string', description: "The original message's key." }, bindingVersion: KAFKA_BINDING_VERSION } },
  };
}

/** The AsyncAPI 3.0 document of every Payrail topic and dead-letter topic. */
export function buildAsyncApiDocument(): JsonObject {
  const partitionsByName = new Map(allTopicNames().map((t) => [t.name, t.partitions]));
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};

  for (const [key, topic] of topicEntries()) {
    messages[key] = topicMessage(key, topic);
    channels[key] = {
      address: topic.name,
      title: title(key),
      description: `${topic.description}\n\nKey \`${topic.key.field}\`: ${topic.key.why}. Schema version ${topic.schemaVersion}, ${topic.partitions} partitions.`,
      messages: { [key]: { $ref: `#/components/messages/${key}` } },
      bindings: { kafka: { topic: topic.name, partitions: topic.partitions, ...topicConfiguration(topic), bindingVersion: KAFKA_BINDING_VERSION } },
    };
    const messageRef = [{ $ref: `#/channels/${key}/messages/${key}` }];
    for (const producer of topic.producers) {
      operations[`${camel(producer)}Send${pascal(key)}`] = {
        action: 'send',
        channel: { $ref: `#/channels/${key}` },
        title: `${producer} sends ${topic.eventType}`,
        summary: `${producer} produces to ${topic.name}, keyed by ${topic.key.field}.`,
        tags: [{ name: producer }],
        messages: messageRef,
      };
    }
    for (const consumer of topic.consumers) {
      const groupId = consumerGroupFor(key, consumer);
      if (groupId === undefined) throw new Error(`${topic.name}: no consumer group of ${consumer} reads it (see CONSUMER_GROUP_SUBSCRIPTIONS)`);
      operations[`${camel(consumer)}Receive${pascal(key)}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${key}` },
        title: `${consumer} receives ${topic.eventType}`,
        summary: `${consumer} consumes ${topic.name} in consumer group ${groupId}; failures go to ${DEAD_LETTER_TOPICS[consumer]}.`,
        tags: [{ name: consumer }],
        messages: messageRef,
        bindings: { kafka: { groupId: { type: 'string', enum: [groupId] }, bindingVersion: KAFKA_BINDING_VERSION } },
      };
    }
  }

  messages['deadLetter'] = deadLetterMessage();
  for (const [service, name] of Object.entries(DEAD_LETTER_TOPICS) as [ServiceName, string][]) {
    const channelId = deadLetterChannelId(service);
    const sources = topicEntries()
      .filter(([, t]) => t.consumers.includes(service))
      .map(([, t]) => t.name);
    const partitions = partitionsByName.get(name);
    if (partitions === undefined) throw new Error(`${name}: not in allTopicNames()`);
    channels[channelId] = {
      address: name,
      title: `Dead letters of ${service}`,
      description: `Messages ${service} could not process, from: ${sources.length > 0 ? sources.join(', ') : '(no topic yet)'}. No Payrail service consumes it.`,
      messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
      bindings: { kafka: { topic: name, partitions, bindingVersion: KAFKA_BINDING_VERSION } },
    };
    operations[`${camel(service)}SendDeadLetter`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channelId}` },
      title: `${service} dead-letters a message`,
      summary: `${service} moves a message it cannot process to ${name}, keeping key, value and headers.`,
      tags: [{ name: service }],
      messages: [{ $ref: `#/channels/${channelId}/messages/deadLetter` }],
    };
  }

  for (const [observer, group] of Object.entries(OBSERVER_GROUPS) as [string, ObserverGroup][]) {
    const watched: [string, string][] = group.topics.map((key) => [key, TOPICS[key].name]);
    if (group.deadLetters) for (const [service, name] of Object.entries(DEAD_LETTER_TOPICS) as [ServiceName, string][]) watched.push([deadLetterChannelId(service), name]);
    for (const [channelId, name] of watched) {
      operations[`${camel(observer)}Observe${pascal(channelId)}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${channelId}` },
        title: `${observer} observes ${name}`,
        summary: `${observer} reads ${name} in consumer group ${group.groupId}, read-only: it never produces, never dead-letters and commits no offsets.`,
        tags: [{ name: observer }],
        bindings: { kafka: { groupId: { type: 'string', enum: [group.groupId] }, bindingVersion: KAFKA_BINDING_VERSION } },
      };
    }
  }

  const schemas: JsonObject = {};
  for (const name of Object.keys(SHARED_SCHEMAS) as (keyof typeof SHARED_SCHEMAS)[]) {
    schemas[name] = { ...jsonSchemaOf(SHARED_SCHEMAS[name]), description: SHARED_DESCRIPTIONS[name] };
  }
  for (const name of Object.keys(JWS_PAYLOAD_SCHEMAS) as JwsPayloadName[]) {
    schemas[name] = { ...toJsonObject(referenceShared(jsonSchemaOf(JWS_PAYLOAD_SCHEMAS[name]))), description: JWS_DESCRIPTIONS[name] };
  }

  return {
    asyncapi: '3.0.0',
    id: 'urn:dev:payrail:events',
    info: {
      title: 'Payrail events',
      version: '1.0.0',
      description: [
        'Every Kafka topic of Payrail, the event-driven payment backbone: ingest, signing, fraud-check and settlement talk only over these topics.',
        '',
        '- Envelope: CloudEvents 1.0 in Kafka binary content mode. The message value is the event data (JSON); the attributes are `ce_*` headers, trace context `traceparent`/`tracestate`.',
        '- Message key: decides the partition and so the ordering; each message documents its key and why (bindings.kafka.key, x-payrail-key).',
        '- Versions: topic names end in `.vN`; a breaking schema change gets a new topic, run side by side until consumers have moved. Consumers drop fields they do not know, except in objects marked `additionalProperties: false`.',
        '- Money: integer minor units as a decimal string, see docs/money.md.',
        '- Failures: each consuming service dead-letters to its own `payrail.dlq.<service>.v1` topic.',
        '',
        `Generated from @payrail/contracts (libs/contracts); do not edit by hand. Regenerate with \`${REGENERATE_COMMAND}\`.`,
      ].join('\n'),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      tags: [
        ...(Object.keys(PARTICIPANTS) as Producer[]).map((name) => ({ name, description: PARTICIPANTS[name] })),
        ...Object.entries(OBSERVER_GROUPS).map(([name, group]) => ({ name, description: `Read-only observer. ${group.description}` })),
      ],
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: '{bootstrap}',
        protocol: 'kafka',
        description: 'The Payrail Kafka cluster (services read it from KAFKA_BROKERS).',
        variables: { bootstrap: { default: 'localhost:9092', description: 'A bootstrap broker, host:port.' } },
      },
    },
    channels,
    operations,
    components: {
      schemas,
      messages,
      correlationIds: {
        payrailCorrelationId: { description: 'The payment (or settlement batch) id the whole flow correlates on.', location: '$message.header#/ce_correlationid' },
      },
    },
  };
}

/** The document as YAML: short scalar lists in flow style, no line folding, no anchors, a generated-file banner. */
export function renderAsyncApiYaml(document: JsonObject = buildAsyncApiDocument()): string {
  const doc = new Document(document, { aliasDuplicateObjects: false });
  visit(doc, {
    Seq(_, node) {
      const width = node.items.reduce<number>((sum, item) => sum + (isScalar(item) ? String(item.value).length + 2 : Infinity), 0);
      if (width <= 100) node.flow = true;
    },
  });
  const banner = [
    '# Generated from @payrail/contracts by libs/contracts/src/lib/asyncapi/asyncapi.ts. Do not edit by hand.',
    `# Regenerate: ${REGENERATE_COMMAND}`,
    '',
  ].join('\n');
  return banner + doc.toString({ lineWidth: 0 });
}
