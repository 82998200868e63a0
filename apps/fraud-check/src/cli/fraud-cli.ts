// fraud-cli: operators' tools for fraud-check, run from a checkout (`npm run fraud:backtest -- ...`) or in the
// service image (`node fraud-cli.js ...`).
//
//   backtest --rules CANDIDATE.json (--file PAYMENTS.ndjson | --from-topic [--topic NAME] [--since ISO] [--until ISO] [--max N])
//            [--current RULES.json] [--blocklists FILE|live] [--jwks FILE|URL] [--examples N] [--json OUT]
//   operator-token --id ID --role read|write
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { PAYMENT_INSTRUCTION_JWS_TYPE, TOPICS } from '@payrail/contracts';
import { PayrailVerifierHandle, openPayrailVerifier } from '@payrail/crypto';
import { parseEnv } from '@payrail/config';
import { createKafka, createRedis, kafkaConnectionFromEnv, kafkaEnvFragment, redisConnectionFromEnv, redisEnvFragment } from '@payrail/messaging';
import { AdminScope, SCOPES, newOperatorToken } from '../admin/operators';
import { BLOCKLISTS, BLOCKLIST_VALUE_SCHEMAS, BlocklistEntry, BlocklistName, BlocklistReader, InMemoryBlocklists } from '../blocklist/blocklist';
import { RedisBlocklistStore } from '../blocklist/redis-blocklist.store';
import { parseRuleSet } from '../rules/ruleset';
import { runBacktest } from '../backtest/backtest';
import { renderBacktest } from '../backtest/backtest-report';
import { LoadedPayments, paymentsFromFile, paymentsFromTopic } from '../backtest/payment-sources';

const USAGE = `usage:
  fraud-cli backtest --rules CANDIDATE.json (--file PAYMENTS.ndjson | --from-topic [--topic NAME] [--since ISO] [--until ISO] [--max N])
                     [--current RULES.json] [--blocklists FILE|live] [--jwks FILE|URL] [--examples N] [--json OUT]
  fraud-cli operator-token --id ID --role read|write
`;

class UsageError extends Error {}

const BlocklistFileSchema = z.partialRecord(z.enum(BLOCKLISTS), z.array(z.string()));

function loadRuleSet(path: string) {
  return parseRuleSet(readFileSync(path, 'utf8'), path).ruleset;
}

/** A blocklist snapshot: a JSON file {"ip": ["203.0.113.7"], ...}, the live lists (read only), or none. */
async function blocklists(source: string | undefined): Promise<{ reader: BlocklistReader; label: string }> {
  if (!source) return { reader: new InMemoryBlocklists(), label: 'none' };
  const lists: Partial<Record<BlocklistName, Map<string, BlocklistEntry>>> = {};
  if (source === 'live') {
    const e = parseEnv(z.object(redisEnvFragment));
    const redis = createRedis(redisConnectionFromEnv(e), 'payrail-fraud-backtest');
    await redis.connect();
    try {
      Object.assign(lists, await new RedisBlocklistStore(redis, 1_000).snapshot(BLOCKLISTS));
    } finally {
      await redis.quit();
    }
    return { reader: new InMemoryBlocklists(lists), label: `live snapshot of ${e.REDIS_URL.replace(/\/\/[^@]*@/, '//')} (${e.REDIS_KEY_PREFIX})` };
  }
  const file = BlocklistFileSchema.parse(JSON.parse(readFileSync(source, 'utf8')));
  for (const [list, values] of Object.entries(file) as [BlocklistName, string[]][]) {
    lists[list] = new Map(values.map((v) => {
      const value = BLOCKLIST_VALUE_SCHEMAS[list].parse(v);
      return [value, { value, added_by: 'backtest', added_at: new Date(0).toISOString() }];
    }));
  }
  return { reader: new InMemoryBlocklists(lists), label: source };
}

function time(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--${flag} must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z`);
  return ms;
}

async function backtest(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rules: { type: 'string' },
      current: { type: 'string' },
      file: { type: 'string' },
      'from-topic': { type: 'boolean', default: false },
      topic: { type: 'string', default: TOPICS.paymentsSigned.name },
      since: { type: 'string' },
      until: { type: 'string' },
      max: { type: 'string' },
      blocklists: { type: 'string' },
      jwks: { type: 'string' },
      examples: { type: 'string', default: '5' },
      json: { type: 'string' },
    },
  });
  if (!values.rules) throw new UsageError('--rules CANDIDATE.json is required');
  if (Boolean(values.file) === values['from-topic']) throw new UsageError('give either --file PAYMENTS.ndjson or --from-topic');
  const currentFile = values.current ?? process.env['RULES_FILE'] ?? 'apps/fraud-check/rules/ruleset.json';
  const current = loadRuleSet(currentFile);
  const candidate = loadRuleSet(values.rules);
  const { reader, label: blocklistLabel } = await blocklists(values.blocklists);
  let verifier: PayrailVerifierHandle | undefined;
  if (values.jwks) verifier = await openPayrailVerifier(/^https?:\/\//.test(values.jwks) ? { url: values.jwks } : { file: resolve(values.jwks) }, [PAYMENT_INSTRUCTION_JWS_TYPE]);
  // the keys before any replay: an unreachable JWKS must stop the backtest, not turn every signature into a failure
  await verifier?.ready();

  let loaded: LoadedPayments;
  let source: string;
  try {
    if (values.file) {
      loaded = await paymentsFromFile(values.file, verifier?.verifier);
      source = values.file;
    } else {
      const env = parseEnv(z.object(kafkaEnvFragment));
      const kafka = createKafka(kafkaConnectionFromEnv(env, process.env, 'payrail-fraud-backtest'));
      const max = values.max === undefined ? undefined : Number(values.max);
      if (max !== undefined && !(Number.isInteger(max) && max > 0)) throw new UsageError('--max must be a positive whole number');
      loaded = await paymentsFromTopic(kafka, { topic: values.topic, sinceMs: time('since', values.since), untilMs: time('until', values.until), max }, verifier?.verifier);
      source = `${values.topic}${values.since ? ` since ${values.since}` : ''}${values.until ? ` until ${values.until}` : ''}`;
    }
  } finally {
    verifier?.close();
  }

  const result = await runBacktest(loaded.payments, { current, candidate, blocklists: reader, examplesPerTransition: Number(values.examples) });
  process.stdout.write(renderBacktest(result, { current: currentFile, candidate: values.rules, source }));
  process.stdout.write(`  signatures: ${verifier ? 'verified' : 'not verified (pass --jwks to verify)'}; blocklists: ${blocklistLabel}; velocity: in memory\n`);
  for (const [reason, count] of Object.entries(loaded.skipped)) process.stdout.write(`  skipped ${count}: ${reason}\n`);
  if (values.json) {
    mkdirSync(dirname(resolve(values.json)), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify({ source, current_file: currentFile, candidate_file: values.rules, skipped: loaded.skipped, ...result }, null, 2)}\n`);
  }
  return 0;
}

function operatorToken(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { id: { type: 'string' }, role: { type: 'string' }, scopes: { type: 'string' } } });
  const scopes = values.scopes?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes?.filter((s) => !(SCOPES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0) throw new UsageError(`unknown scope(s) ${unknown.join(', ')}; scopes: ${SCOPES.join(', ')}`);
  const role = values.role === 'read' || values.role === 'write' ? values.role : undefined;
  if (!values.id || (role === undefined) === (scopes === undefined)) throw new UsageError(`--id ID and either --role read|write or --scopes ${SCOPES.join(',')} are required`);
  const { token, operator } = newOperatorToken(values.id, role ?? (scopes as AdminScope[]));
  process.stderr.write('The token is shown once: give it to the operator; put the operator line in the FRAUD_OPERATORS_FILE Secret.\n');
  process.stdout.write(`${JSON.stringify({ token, operator })}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv[0] === '--' ? argv.slice(1) : argv;
  const args = rest[0] === '--' ? rest.slice(1) : rest;
  if (command === 'backtest') return backtest(args);
  if (command === 'operator-token') return operatorToken(args);
  throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fraud-cli: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(USAGE);
    process.exit(err instanceof UsageError ? 64 : 1);
  },
);
