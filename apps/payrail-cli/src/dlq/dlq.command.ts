// payrail dlq list|inspect|replay: the operators' view of the dead-letter topics. Parses the command line and the
// environment, calls DeadLetterOperations (@payrail/messaging) and prints a table or JSON. Runbook: docs/dead-letters.md.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, envList, parseEnv } from '@payrail/config';
import { DEAD_LETTER_TOPICS, ServiceName } from '@payrail/contracts';
import {
  DeadLetterFilter,
  DeadLetterOperations,
  MessageRef,
  Redis,
  createKafka,
  createRedis,
  formatRef,
  kafkaConnectionFromEnv,
  kafkaEnvFragment,
  parseRef,
  redisConnectionFromEnv,
  redisEnvFragment,
} from '@payrail/messaging';
import { deadLetterJson, inspectText, listTable, replayJson, replayTable, valueView } from './dlq.view';
import { openDeadLetterUnsealer } from './dlq-unseal';

export const DLQ_USAGE = `usage:
  payrail dlq list    [SELECTION] [--limit N (100)] [--json]
  payrail dlq inspect REF [--json] [--show-value]
  payrail dlq replay  (REF... | SELECTION | --all) [--limit N] [--dry-run] [--json] [--lease-s S] [--dlq-key FILE]

REF is <dead-letter topic>/<partition>/<offset>, as listed, e.g. payrail.dlq.fraud-check.v1/2/17.
SELECTION (default: every dead-letter topic):
  --topic T            dead-letter topic or consuming service (ingest, signing, fraud-check, settlement); repeatable
  --original-topic T   only messages consumed from topic T
  --reason R           error class (exact) or part of the error message, any case
  --group G            only those consumer group G gave up on
  --partition P --from-offset A --to-offset B    dead-letter topic partition and offset range (inclusive)
--dlq-key FILE        the data-protection private JWKS: replays sealed dead letters (payrail_dlq_value_protection jwe)
                     as their original bytes, the inbound topic's only when they are encrypted payments (never in clear)
environment: KAFKA_BROKERS (and KAFKA_SSL/SASL_*), REDIS_URL (required to replay; shows replay state otherwise)`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const Env = z.object({
  ...kafkaEnvFragment,
  KAFKA_BROKERS: envList,
  REDIS_URL: redisEnvFragment.REDIS_URL.optional(),
  REDIS_KEY_PREFIX: redisEnvFragment.REDIS_KEY_PREFIX,
  REDIS_TLS_CA_FILE: redisEnvFragment.REDIS_TLS_CA_FILE,
});

const OPTIONS = {
  topic: { type: 'string', multiple: true },
  all: { type: 'boolean', default: false },
  'original-topic': { type: 'string' },
  reason: { type: 'string' },
  group: { type: 'string' },
  partition: { type: 'string' },
  'from-offset': { type: 'string' },
  'to-offset': { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  'show-value': { type: 'boolean', default: false },
  'lease-s': { type: 'string' },
  'dlq-key': { type: 'string' },
  verbose: { type: 'boolean', default: false },
} as const;

export interface DlqCommand {
  readonly action: 'list' | 'inspect' | 'replay';
  readonly topics: readonly string[];
  readonly filter: DeadLetterFilter;
  readonly refs: readonly MessageRef[];
  readonly limit?: number;
  readonly json: boolean;
  readonly dryRun: boolean;
  readonly showValue: boolean;
  readonly leaseMs?: number;
  /** The data-protection private JWKS (replay of sealed dead letters). */
  readonly dlqKeyFile?: string;
  readonly verbose: boolean;
}

function wholeNumber(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name} must be a whole number >= ${min}, got "${text}"`);
  return Number(text);
}

function offset(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new UsageError(`--${name} must be an offset (a whole number), got "${text}"`);
  return text;
}

function deadLetterTopic(name: string): string {
  if (Object.prototype.hasOwnProperty.call(DEAD_LETTER_TOPICS, name)) return DEAD_LETTER_TOPICS[name as ServiceName];
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--topic ${name}: not a topic name nor one of ${Object.keys(DEAD_LETTER_TOPICS).join(', ')}`);
  return name;
}

/** Reads the command line (after `dlq`). Throws UsageError on anything it cannot use. */
export function parseDlqCommand(argv: readonly string[]): DlqCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { positionals, values } = parsed;
  const [action, ...rest] = positionals;
  if (action !== 'list' && action !== 'inspect' && action !== 'replay') throw new UsageError(action === undefined ? 'say list, inspect or replay' : `unknown dlq command "${action}"`);
  let refs: MessageRef[];
  try {
    refs = rest.map(parseRef);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const filter: DeadLetterFilter = {
    originalTopic: values['original-topic'],
    reason: values.reason,
    consumerGroup: values.group,
    partition: wholeNumber('partition', values.partition, 0),
    fromOffset: offset('from-offset', values['from-offset']),
    toOffset: offset('to-offset', values['to-offset']),
  };
  const selects = values.topic !== undefined || Object.values(filter).some((v) => v !== undefined);
  const leaseS = wholeNumber('lease-s', values['lease-s'], 0);
  const command: DlqCommand = {
    action,
    topics: values.topic === undefined ? Object.values(DEAD_LETTER_TOPICS) : [...new Set(values.topic.map(deadLetterTopic))],
    filter,
    refs,
    limit: wholeNumber('limit', values.limit, 1) ?? (action === 'list' ? 100 : undefined),
    json: values.json,
    dryRun: values['dry-run'],
    showValue: values['show-value'],
    leaseMs: leaseS === undefined ? undefined : leaseS * 1_000,
    dlqKeyFile: values['dlq-key'],
    verbose: values.verbose,
  };
  if (action === 'inspect' && refs.length !== 1) throw new UsageError('dlq inspect takes one REF, e.g. payrail.dlq.fraud-check.v1/2/17');
  if (action === 'list' && refs.length > 0) throw new UsageError('dlq list takes no REF (use dlq inspect REF)');
  if (action !== 'replay' && command.dlqKeyFile !== undefined) throw new UsageError('--dlq-key is for dlq replay only (inspect never prints what a sealed value holds)');
  if (action === 'replay') {
    if (refs.length > 0 && (selects || values.all)) throw new UsageError('give dead-letter references or a selection, not both');
    if (refs.length === 0 && !selects && !values.all) throw new UsageError('say which dead letters to replay: REF..., a selection (--topic, --reason, ...), or --all');
  }
  if (filter.partition === undefined && (filter.fromOffset !== undefined || filter.toOffset !== undefined) && command.topics.length > 1) {
    throw new UsageError('an offset range needs one --topic (and usually --partition): offsets of different topics are unrelated');
  }
  return command;
}

export async function runDlq(argv: readonly string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  let command: DlqCommand;
  try {
    command = parseDlqCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`payrail dlq: ${err.message}\n${DLQ_USAGE}`);
    return 2;
  }
  const config = parseEnv(Env, env);
  if (command.action === 'replay' && !config.REDIS_URL) {
    throw new ConfigError([{ variable: 'REDIS_URL', reason: 'is required to replay: the replay ledger (what was replayed already) lives in Redis' }]);
  }
  const kafka = createKafka(kafkaConnectionFromEnv(config, env, 'payrail-cli'), {
    warn: (_o, m) => (command.verbose ? io.err(m) : undefined),
    error: (_o, m) => io.err(m),
  });
  let redis: Redis | undefined;
  if (config.REDIS_URL) {
    redis = createRedis(redisConnectionFromEnv({ REDIS_URL: config.REDIS_URL, REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX, REDIS_TLS_CA_FILE: config.REDIS_TLS_CA_FILE }), 'payrail-cli-dlq');
    await redis.connect();
  }
  try {
    const unseal = command.dlqKeyFile === undefined ? undefined : await openDeadLetterUnsealer(command.dlqKeyFile);
    const ops = new DeadLetterOperations(kafka, { redis, leaseMs: command.leaseMs, unseal });
    if (command.action === 'list') return await list(ops, command, io, redis !== undefined);
    if (command.action === 'inspect') return await inspect(ops, command, io, redis !== undefined);
    return await replay(ops, command, io);
  } finally {
    await redis?.quit().catch(() => redis?.disconnect());
  }
}

async function list(ops: DeadLetterOperations, command: DlqCommand, io: CliIo, withLedger: boolean): Promise<number> {
  const letters = await ops.list({ topics: command.topics, filter: command.filter, limit: command.limit });
  const records = withLedger ? await ops.replayRecords(letters.map((l) => l.ref)) : undefined;
  if (command.json) {
    io.out(JSON.stringify(letters.map((l) => deadLetterJson(l, records ? (records.get(formatRef(l.ref)) ?? null) : undefined)), null, 2));
  } else {
    io.out(listTable(letters, records));
    const more = command.limit !== undefined && letters.length === command.limit ? ` (the first ${command.limit}; --limit N for more)` : '';
    io.err(`${letters.length} dead letter${letters.length === 1 ? '' : 's'} in ${command.topics.join(', ')}${more}`);
  }
  return 0;
}

async function inspect(ops: DeadLetterOperations, command: DlqCommand, io: CliIo, withLedger: boolean): Promise<number> {
  const [ref] = command.refs;
  if (!ref) return 2;
  const found = await ops.inspect(ref);
  if (!found) {
    io.err(`payrail dlq: no dead letter at ${formatRef(ref)} (never written, or removed by retention)`);
    return 1;
  }
  if (command.json) {
    const json = { ...deadLetterJson(found.letter, withLedger ? (found.replay ?? null) : undefined), headers: found.letter.headers, value: valueView(found.letter.value, command.showValue) };
    io.out(JSON.stringify(json, null, 2));
  } else {
    io.out(inspectText(found.letter, found.replay, withLedger, command.showValue));
  }
  return 0;
}

async function replay(ops: DeadLetterOperations, command: DlqCommand, io: CliIo): Promise<number> {
  const report =
    command.refs.length > 0
      ? await ops.replayRefs(command.refs, { dryRun: command.dryRun })
      : await ops.replay(await ops.list({ topics: command.topics, filter: command.filter, limit: command.limit }), { dryRun: command.dryRun });
  io.out(command.json ? JSON.stringify(replayJson(report), null, 2) : replayTable(report));
  const { failed, 'not-found': missing, 'not-replayable': refused } = report.counts;
  return failed + missing + refused > 0 ? 1 : 0;
}
