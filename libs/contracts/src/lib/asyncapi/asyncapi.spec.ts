import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CE_HEADERS } from '../envelope/envelope';
import { EXAMPLE_PAYLOADS } from '../examples/examples';
import { OBSERVER_GROUPS, ObserverGroup, consumerGroupFor } from '../topics/consumer-group-subscriptions';
import { DEAD_LETTER_TOPICS, DLQ_HEADERS, REPLAY_HEADERS, TopicContract, TopicKey, TOPICS } from '../topics/topics';
import { ASYNCAPI_DOCUMENT_PATH, buildAsyncApiDocument, jsonSchemaOf, REGENERATE_COMMAND, renderAsyncApiYaml } from './asyncapi';
import { EVENTS_DOCUMENT_PATH, renderEventsMarkdown, schemaExportName } from './events-markdown';
import { isJsonObject, JsonObject, JsonValue } from './json';
import { WORKSPACE_ROOT } from './write-asyncapi';

const topics = Object.entries(TOPICS) as [TopicKey, TopicContract][];

/** Fails with the first differing line and the command that fixes it. */
function expectCommitted(path: string, generated: string): void {
  const file = join(WORKSPACE_ROOT, path);
  const committed = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (committed === generated) return;
  let detail = `${path} does not exist`;
  if (committed !== undefined) {
    const a = committed.split('\n');
    const b = generated.split('\n');
    const line = a.findIndex((text, i) => text !== b[i]);
    const at = line === -1 ? Math.min(a.length, b.length) : line;
    detail = `${path} differs from what the contracts generate, first at line ${at + 1}:\n  committed: ${a[at] ?? '(end of file)'}\n  generated: ${b[at] ?? '(end of file)'}`;
  }
  throw new Error(`${detail}\n\nThe zod schemas or the topic catalogue changed. Regenerate from the workspace root with:\n  ${REGENERATE_COMMAND}\nand commit the result.`);
}

/** Follows a local JSON reference ("#/components/...") in the generated document. */
function resolve(document: JsonObject, value: JsonValue | undefined): JsonValue | undefined {
  if (!isJsonObject(value) || typeof value['$ref'] !== 'string') return value;
  let current: JsonValue | undefined = document;
  for (const segment of value['$ref'].replace(/^#\//, '').split('/')) current = isJsonObject(current) ? current[segment] : undefined;
  return current;
}

function get(value: JsonValue | undefined, ...path: string[]): JsonValue | undefined {
  let current = value;
  for (const segment of path) current = isJsonObject(current) ? current[segment] : undefined;
  return current;
}

describe('docs/asyncapi.yaml', () => {
  const document = buildAsyncApiDocument();
  const yaml = renderAsyncApiYaml(document);

  it('is committed exactly as generated from the zod schemas and the topic catalogue', () => {
    expectCommitted(ASYNCAPI_DOCUMENT_PATH, yaml);
  });

  it('renders deterministically and reads back as the same document', () => {
    expect(renderAsyncApiYaml()).toBe(yaml);
    expect(parseYaml(yaml)).toEqual(document);
    expect(yaml).not.toMatch(/^\s*[&*]\w/m); // no YAML anchors or aliases
  });

  it('is a valid AsyncAPI 3.0 document: @asyncapi/parser reports no errors', async () => {
    const parser = new Parser();
    const { document: parsed, diagnostics } = await parser.parse(yaml);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(parsed).toBeDefined();
    if (parsed === undefined) return;

    expect(parsed.version()).toBe('3.0.0');
    const addresses = parsed.channels().all().map((c) => c.address());
    expect(addresses.sort()).toEqual([...topics.map(([, t]) => t.name), ...Object.values(DEAD_LETTER_TOPICS)].sort());
    for (const [key, t] of topics) {
      const channel = parsed.channels().all().find((c) => c.address() === t.name);
      const messages = channel?.messages().all() ?? [];
      expect(messages.map((m) => m.name())).toEqual([t.eventType]);
      expect(messages[0]?.payload()?.json()).toBeDefined();
      const operations = channel?.operations().all() ?? [];
      expect(operations.filter((o) => o.action() === 'send').length).toBe(t.producers.length);
      const observing = Object.values(OBSERVER_GROUPS as Record<string, ObserverGroup>).filter((o) => o.topics.includes(key)).length;
      expect(operations.filter((o) => o.action() === 'receive').length).toBe(t.consumers.length + observing);
      expect({ key, examples: messages[0]?.examples().all().length }).toEqual({ key, examples: 1 });
    }
  }, 30_000);

  describe.each(topics)('%s', (key, t) => {
    const message = get(document, 'components', 'messages', key);
    const channel = get(document, 'channels', key);

    it('has a channel at the topic address with its partitions', () => {
      expect(get(channel, 'address')).toBe(t.name);
      expect(get(channel, 'bindings', 'kafka', 'topic')).toBe(t.name);
      expect(get(channel, 'bindings', 'kafka', 'partitions')).toBe(t.partitions);
    });

    it('documents the message key and why', () => {
      expect(get(message, 'bindings', 'kafka', 'key', 'description')).toBe(`${t.key.field}: ${t.key.why}`);
      expect(get(message, 'x-payrail-key')).toEqual(expect.objectContaining({ field: t.key.field, why: t.key.why }));
    });

    it('has the payload generated from the zod schema', () => {
      const payload = resolve(document, get(message, 'payload'));
      const expected = jsonSchemaOf(t.schema);
      // shared sub-schemas (Money) are referenced instead of repeated; annotations are added to JWS fields
      const expand = (node: JsonValue | undefined): JsonValue | undefined => {
        const resolved = resolve(document, node);
        if (Array.isArray(resolved)) return resolved.map((item) => expand(item) ?? null);
        if (!isJsonObject(resolved)) return resolved;
        const out: JsonObject = {};
        for (const [k, v] of Object.entries(resolved)) {
          if (k === 'x-jws-payload') continue;
          const expanded = expand(v);
          if (expanded !== undefined) out[k] = expanded;
        }
        return out;
      };
      const withoutAnnotations = (node: JsonValue | undefined): JsonValue | undefined => {
        const expanded = expand(node);
        return JSON.parse(JSON.stringify(expanded, (k, v: unknown) => (k === 'description' && typeof v === 'string' ? undefined : v)));
      };
      expect(withoutAnnotations(payload)).toEqual(withoutAnnotations(expected));
    });

    it('describes the CloudEvents headers, fixing ce_type and ce_schemaversion', () => {
      const headers = get(message, 'headers');
      expect(Object.keys(get(headers, 'properties') ?? {}).sort()).toEqual(Object.values(CE_HEADERS).sort());
      expect(get(headers, 'properties', CE_HEADERS.type, 'const')).toBe(t.eventType);
      expect(get(headers, 'properties', CE_HEADERS.schemaversion, 'const')).toBe(String(t.schemaVersion));
      expect(get(headers, 'required')).toEqual(expect.arrayContaining([CE_HEADERS.id, CE_HEADERS.type, CE_HEADERS.correlationid, CE_HEADERS.contentType]));
      expect(get(headers, 'required')).not.toContain(CE_HEADERS.traceparent);
    });

    it('has a send operation per producer and a receive operation per consumer, with its consumer group', () => {
      const operations = Object.values(get(document, 'operations') ?? {}).filter((o) => get(o, 'channel', '$ref') === `#/channels/${key}`);
      expect(operations.filter((o) => get(o, 'action') === 'send').map((o) => get(o, 'tags'))).toEqual(t.producers.map((p) => [{ name: p }]));
      const receives = operations.filter((o) => get(o, 'action') === 'receive');
      const observers = Object.values(OBSERVER_GROUPS as Record<string, ObserverGroup>).filter((o) => o.topics.includes(key));
      expect(receives.map((o) => get(o, 'bindings', 'kafka', 'groupId', 'enum'))).toEqual([...t.consumers.map((c) => [consumerGroupFor(key, c)]), ...observers.map((o) => [o.groupId])]);
    });

    it('shows the example message', () => {
      expect(get(message, 'examples')).toEqual([expect.objectContaining({ payload: EXAMPLE_PAYLOADS[key] })]);
    });
  });

  it('has a channel and a send operation for every dead-letter topic, with the DLQ headers', () => {
    for (const [service, name] of Object.entries(DEAD_LETTER_TOPICS)) {
      const channel = Object.values(get(document, 'channels') ?? {}).find((c) => get(c, 'address') === name);
      expect(get(channel, 'bindings', 'kafka', 'topic')).toBe(name);
      const sends = Object.values(get(document, 'operations') ?? {}).filter((o) => get(o, 'action') === 'send' && get(o, 'summary')?.toString().includes(name));
      expect(sends.map((o) => get(o, 'tags'))).toEqual([[{ name: service }]]);
    }
    expect(Object.keys(get(document, 'components', 'messages', 'deadLetter', 'headers', 'properties') ?? {}).sort()).toEqual(Object.values(DLQ_HEADERS).sort());
  });

  it('documents each observer group as read-only receive operations, on dead-letter topics too when it watches them', () => {
    for (const group of Object.values(OBSERVER_GROUPS as Record<string, ObserverGroup>)) {
      const observed = Object.values(get(document, 'operations') ?? {})
        .filter((o) => get(o, 'action') === 'receive' && JSON.stringify(get(o, 'bindings', 'kafka', 'groupId', 'enum')) === JSON.stringify([group.groupId]))
        .map((o) => String(get(resolve(document, get(o, 'channel')), 'address')));
      const expected = [...group.topics.map((k) => TOPICS[k].name), ...(group.deadLetters ? Object.values(DEAD_LETTER_TOPICS) : [])];
      expect(observed.sort()).toEqual(expected.sort());
    }
  });
});

describe('docs/events.md', () => {
  const markdown = renderEventsMarkdown();

  it('is committed exactly as generated from the topic catalogue', () => {
    expectCommitted(EVENTS_DOCUMENT_PATH, markdown);
  });

  it('has a row per topic with its event type, key, partitions and DLQs, and every envelope header', () => {
    for (const [, t] of topics) {
      const row = markdown.split('\n').find((line) => line.startsWith(`| \`${t.name}\` |`));
      expect(row).toBeDefined();
      expect(row).toContain(`\`${t.eventType}\``);
      expect(row).toContain(`\`${t.key.field}\``);
      expect(row).toContain(t.key.why);
      expect(row?.endsWith(`| ${t.partitions} |`)).toBe(true);
      for (const consumer of t.consumers) expect(row).toContain(DEAD_LETTER_TOPICS[consumer]);
      expect(schemaExportName(t.schema)).toMatch(/Schema$/);
    }
    for (const header of Object.values(CE_HEADERS)) expect(markdown).toContain(`| \`${header}\` |`);
    for (const header of Object.values(DLQ_HEADERS)) expect(markdown).toContain(`| \`${header}\` |`);
    for (const header of Object.values(REPLAY_HEADERS)) expect(markdown).toContain(`| \`${header}\` |`);
  });
});
