// The event envelope: CloudEvents 1.0 in Kafka binary content mode. The value is the event's data (JSON);
// the attributes travel as `ce_*` headers, trace context as W3C `traceparent`/`tracestate` headers.
import { z } from 'zod';

export const CE_HEADERS = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  subject: 'ce_subject',
  dataschema: 'ce_dataschema',
  /** Payrail extension: the schema version of `data` (integer, bumped on a breaking change with a new topic). */
  schemaversion: 'ce_schemaversion',
  /** Payrail extension: the payment (or batch) id the whole flow correlates on. */
  correlationid: 'ce_correlationid',
  contentType: 'content-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

export interface EventEnvelope {
  readonly specversion: '1.0';
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly time: string;
  readonly subject?: string;
  readonly dataschema: string;
  readonly schemaversion: number;
  readonly correlationid: string;
  readonly datacontenttype: 'application/json';
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export const EnvelopeSchema = z.object({
  specversion: z.literal('1.0', { error: 'ce_specversion must be 1.0' }),
  id: z.string().min(1, 'ce_id is required'),
  type: z.string().min(1, 'ce_type is required'),
  source: z.string().min(1, 'ce_source is required'),
  time: z.iso.datetime({ offset: true, error: 'ce_time must be an RFC 3339 timestamp' }),
  subject: z.string().optional(),
  dataschema: z.string().min(1, 'ce_dataschema is required'),
  schemaversion: z.coerce.number({ error: 'ce_schemaversion must be a positive integer' }).int('ce_schemaversion must be a positive integer').positive('ce_schemaversion must be a positive integer'),
  correlationid: z.string().min(1, 'ce_correlationid is required'),
  datacontenttype: z.literal('application/json', { error: 'content-type must be application/json' }),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'traceparent must be a W3C trace context header (version-traceid-parentid-flags, lower-case hex)')
    .optional(),
  tracestate: z.string().optional(),
});

/** Headers as they arrive from Kafka: values may be Buffers, strings, arrays or absent. */
export type RawHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export function envelopeToHeaders(envelope: EventEnvelope): Record<string, string> {
  const headers: Record<string, string> = {
    [CE_HEADERS.specversion]: envelope.specversion,
    [CE_HEADERS.id]: envelope.id,
    [CE_HEADERS.type]: envelope.type,
    [CE_HEADERS.source]: envelope.source,
    [CE_HEADERS.time]: envelope.time,
    [CE_HEADERS.dataschema]: envelope.dataschema,
    [CE_HEADERS.schemaversion]: String(envelope.schemaversion),
    [CE_HEADERS.correlationid]: envelope.correlationid,
    [CE_HEADERS.contentType]: envelope.datacontenttype,
  };
  if (envelope.subject) headers[CE_HEADERS.subject] = envelope.subject;
  if (envelope.traceparent) headers[CE_HEADERS.traceparent] = envelope.traceparent;
  if (envelope.tracestate) headers[CE_HEADERS.tracestate] = envelope.tracestate;
  return headers;
}

function headerText(value: RawHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

export type EnvelopeParse = { ok: true; envelope: EventEnvelope } | { ok: false; reason: string };

/** The header each envelope attribute travels in, for error reasons that name what is on the wire. */
const ATTRIBUTE_HEADERS = {
  specversion: CE_HEADERS.specversion,
  id: CE_HEADERS.id,
  type: CE_HEADERS.type,
  source: CE_HEADERS.source,
  time: CE_HEADERS.time,
  subject: CE_HEADERS.subject,
  dataschema: CE_HEADERS.dataschema,
  schemaversion: CE_HEADERS.schemaversion,
  correlationid: CE_HEADERS.correlationid,
  datacontenttype: CE_HEADERS.contentType,
  traceparent: CE_HEADERS.traceparent,
  tracestate: CE_HEADERS.tracestate,
} as const satisfies Record<keyof z.input<typeof EnvelopeSchema>, string>;

type EnvelopeAttribute = keyof typeof ATTRIBUTE_HEADERS;

function isEnvelopeAttribute(key: PropertyKey | undefined): key is EnvelopeAttribute {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(ATTRIBUTE_HEADERS, key);
}

/**
 * Reads the envelope from Kafka headers. On failure `reason` names every offending header, e.g.
 * `envelope: missing header ce_id; invalid header ce_time: ce_time must be an RFC 3339 timestamp`.
 */
export function headersToEnvelope(headers: RawHeaders): EnvelopeParse {
  const candidate: Record<EnvelopeAttribute, string | undefined> = {
    specversion: headerText(headers[CE_HEADERS.specversion]),
    id: headerText(headers[CE_HEADERS.id]),
    type: headerText(headers[CE_HEADERS.type]),
    source: headerText(headers[CE_HEADERS.source]),
    time: headerText(headers[CE_HEADERS.time]),
    subject: headerText(headers[CE_HEADERS.subject]),
    dataschema: headerText(headers[CE_HEADERS.dataschema]),
    schemaversion: headerText(headers[CE_HEADERS.schemaversion]),
    correlationid: headerText(headers[CE_HEADERS.correlationid]),
    datacontenttype: headerText(headers[CE_HEADERS.contentType]),
    traceparent: headerText(headers[CE_HEADERS.traceparent]),
    tracestate: headerText(headers[CE_HEADERS.tracestate]),
  };
  const parsed = EnvelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const attribute = issue.path[0];
      if (!isEnvelopeAttribute(attribute)) {
        problems.set(String(attribute), `invalid ${issue.path.join('.')}: ${issue.message}`);
        continue;
      }
      const header = ATTRIBUTE_HEADERS[attribute];
      if (problems.has(header)) continue;
      problems.set(header, candidate[attribute] === undefined ? `missing header ${header}` : `invalid header ${header}: ${issue.message}`);
    }
    return { ok: false, reason: `envelope: ${problems.size > 0 ? [...problems.values()].join('; ') : 'invalid'}` };
  }
  return { ok: true, envelope: parsed.data as EventEnvelope };
}
