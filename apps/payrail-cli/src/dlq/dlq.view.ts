// How `payrail dlq` shows dead letters and replay outcomes: aligned tables for people, JSON for scripts. Pure.
// Message values are shown redacted unless asked for: compact JWS/JWE tokens (an upstream's inbound JWS carries the
// card number in its payload) are shortened, digit strings that pass the card-number (Luhn) check masked.
import { luhnCheck } from '@payrail/contracts';
import { DeadLetter, ReplayOutcome, ReplayRecord, ReplayReport, formatRef } from '@payrail/messaging';

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

function clip(text: string | undefined, max: number): string {
  if (text === undefined || text === '') return '-';
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function originOf(letter: DeadLetter): string {
  const { topic, partition, offset } = letter.original;
  return topic === undefined ? '(unknown)' : `${topic}/${partition ?? '?'}/${offset ?? '?'}`;
}

export function replayText(record: ReplayRecord | undefined): string {
  if (!record) return 'no';
  if (record.state === 'done') return `${record.target.topic}/${record.target.partition}/${record.replayedOffset ?? '?'}`;
  return `pending since ${new Date(record.claimedAt).toISOString()}`;
}

/** `records` is undefined when no replay ledger (Redis) was given: the REPLAYED column is left out. */
export function listTable(letters: readonly DeadLetter[], records?: ReadonlyMap<string, ReplayRecord>): string {
  const head = ['DEAD LETTER', 'DEAD-LETTERED AT', 'ORIGINAL', 'ERROR', 'ATTEMPTS', ...(records ? ['REPLAYED'] : []), 'REASON'];
  const rows = letters.map((l) => [
    formatRef(l.ref),
    l.deadLetteredAt,
    originOf(l),
    l.errorClass ?? '-',
    l.attempts === undefined ? '-' : String(l.attempts),
    ...(records ? [replayText(records.get(formatRef(l.ref)))] : []),
    clip(l.errorMessage, 80),
  ]);
  return table(head, rows);
}

export interface DeadLetterJson {
  ref: string;
  dead_lettered_at: string;
  original: { topic: string | null; partition: number | null; offset: string | null };
  error_class: string | null;
  error_message: string | null;
  attempts: number | null;
  first_failure_at: string | null;
  last_failure_at: string | null;
  consumer_group: string | null;
  event: { id: string | null; type: string | null; correlation_id: string | null; schema_version: string | null };
  key: string | null;
  replay_of: string | null;
  /** `jwe` / `withheld` on dead letters of a topic with card numbers in clear; null otherwise. */
  value_protection: string | null;
  problems: string[];
  replay?: { state: string; target: string; replayed_offset: string | null; replayed_at: string | null; claimed_at: string } | null;
}

export function deadLetterJson(letter: DeadLetter, record?: ReplayRecord | null): DeadLetterJson {
  const json: DeadLetterJson = {
    ref: formatRef(letter.ref),
    dead_lettered_at: letter.deadLetteredAt,
    original: { topic: letter.original.topic ?? null, partition: letter.original.partition ?? null, offset: letter.original.offset ?? null },
    error_class: letter.errorClass ?? null,
    error_message: letter.errorMessage ?? null,
    attempts: letter.attempts ?? null,
    first_failure_at: letter.firstFailureAt ?? null,
    last_failure_at: letter.lastFailureAt ?? null,
    consumer_group: letter.consumerGroup ?? null,
    event: { id: letter.event.id ?? null, type: letter.event.type ?? null, correlation_id: letter.event.correlationId ?? null, schema_version: letter.event.schemaVersion ?? null },
    key: letter.key,
    replay_of: letter.replayOf ?? null,
    value_protection: letter.valueProtection ?? null,
    problems: [...letter.problems],
  };
  if (record !== undefined) {
    json.replay = record === null ? null : {
      state: record.state,
      target: `${record.target.topic}/${record.target.partition}`,
      replayed_offset: record.replayedOffset ?? null,
      replayed_at: record.replayedAt ?? null,
      claimed_at: new Date(record.claimedAt).toISOString(),
    };
  }
  return json;
}

const COMPACT_JOSE = /^[A-Za-z0-9_-]{8,}(\.[A-Za-z0-9_-]*){2,4}$/;
const CARD_LIKE = /\b(\d{8,15})(\d{4})\b/g;

function redactString(text: string): string {
  if (text.length > 40 && COMPACT_JOSE.test(text)) return `<compact JOSE token, ${text.split('.').length} parts, ${text.length} chars>`;
  return text.replace(CARD_LIKE, (digits: string, head: string, tail: string) => (luhnCheck(digits) ? `${'*'.repeat(head.length)}${tail}` : digits));
}

function redactJson(value: unknown): unknown {
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactJson(v)]));
  return value;
}

export type ValueView = { encoding: 'none' } | { encoding: 'json'; value: unknown } | { encoding: 'utf8'; value: string } | { encoding: 'base64'; value: string };

/** The message value as JSON, text or base64; redacted unless `raw`. */
export function valueView(value: Buffer | null, raw: boolean): ValueView {
  if (value === null) return { encoding: 'none' };
  const text = value.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(value)) return { encoding: 'base64', value: raw ? value.toString('base64') : `<${value.length} bytes, not UTF-8; --show-value prints them as base64>` };
  try {
    const parsed: unknown = JSON.parse(text);
    return { encoding: 'json', value: raw ? parsed : redactJson(parsed) };
  } catch {
    return { encoding: 'utf8', value: raw ? text : redactString(text) };
  }
}

export function inspectText(letter: DeadLetter, record: ReplayRecord | undefined, ledgerKnown: boolean, rawValue: boolean): string {
  const rows: [string, string][] = [
    ['dead letter', formatRef(letter.ref)],
    ['dead-lettered at', letter.deadLetteredAt],
    ['original', originOf(letter)],
    ['consumer group', letter.consumerGroup ?? '-'],
    ['error', `${letter.errorClass ?? '?'}: ${letter.errorMessage ?? '?'}`],
    ['attempts', letter.attempts === undefined ? '-' : String(letter.attempts)],
    ['first failure', letter.firstFailureAt ?? '-'],
    ['last failure', letter.lastFailureAt ?? '-'],
    ['event', `id ${letter.event.id ?? '?'}, type ${letter.event.type ?? '?'}, schema version ${letter.event.schemaVersion ?? '?'}, correlation id ${letter.event.correlationId ?? '?'}`],
    ['key', letter.key ?? '(none)'],
    ['replayed', ledgerKnown ? replayText(record) : 'unknown (set REDIS_URL to read the replay ledger)'],
  ];
  if (letter.valueProtection === 'jwe') rows.push(['value protection', 'sealed: a JWE to the data-protection key (the original may hold a card number in clear); replay with --dlq-key (the key holder), never in clear']);
  else if (letter.valueProtection !== undefined) rows.push(['value protection', `${letter.valueProtection}: the original value (with a card number in clear) was not kept`]);
  if (letter.replayOf) rows.push(['replay of', letter.replayOf]);
  if (letter.problems.length > 0) rows.push(['problems', letter.problems.join('; ')]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const view = valueView(letter.value, rawValue);
  const value = view.encoding === 'none' ? '(none)' : view.encoding === 'json' ? JSON.stringify(view.value, null, 2) : view.value;
  return [
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    '',
    'headers:',
    ...Object.entries(letter.headers).map(([k, v]) => `  ${k}: ${v}`),
    '',
    `value (${letter.value?.length ?? 0} bytes, ${view.encoding}${rawValue || view.encoding === 'none' ? '' : ', redacted'}${letter.valueProtection === 'jwe' ? ', sealed: --show-value prints the JWE, never the card number' : ''}):`,
    value,
  ].join('\n');
}

function targetText(outcome: ReplayOutcome): string {
  const t = outcome.target;
  if (!t) return '-';
  return `${t.topic}/${t.partition}${t.offset === undefined ? '' : `/${t.offset}`}`;
}

export function replayTable(report: ReplayReport): string {
  const rows = report.outcomes.map((o) => [formatRef(o.ref), o.status, targetText(o), o.detail ?? '']);
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return `${table(['DEAD LETTER', 'STATUS', 'TARGET', 'DETAIL'], rows)}\n\n${report.dryRun ? 'dry run, nothing published: ' : ''}${counts || 'nothing selected'}`;
}

export function replayJson(report: ReplayReport): object {
  return {
    dry_run: report.dryRun,
    counts: report.counts,
    outcomes: report.outcomes.map((o) => ({ ref: formatRef(o.ref), status: o.status, target: o.target ? targetText(o) : null, detail: o.detail ?? null })),
  };
}
