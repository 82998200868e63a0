// payrail: the operators' command line.
//   payrail dev-setup --dir DIR      development keys and demo upstreams (prints their paths as JSON)
//   payrail topics ensure            creates every topic of the contracts catalogue that is missing
//   payrail dlq list|inspect|replay  dead letters: list, inspect, replay to their original topic (docs/dead-letters.md)
//   payrail settlement check | reconcile | rebuild   the ledger's invariants, reconcile and rebuild from Kafka
//   payrail console-password         reads a password on stdin, prints its scrypt hash for the console's users file
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { envList, parseEnv } from '@payrail/config';
import { createKafka, ensureTopics, kafkaConnectionFromEnv, kafkaEnvFragment } from '@payrail/messaging';
import { z } from 'zod';
import { hashPassword } from '@payrail/crypto';
import { devSetup } from './dev-setup';
import { DLQ_USAGE, runDlq } from './dlq/dlq.command';
import { runSettlementCommand } from './settlement';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'dlq') {
    return runDlq(argv.slice(1), { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`) });
  }
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { dir: { type: 'string' }, replication: { type: 'string', default: '1' } } });
  const [command, sub] = positionals;
  if (command === 'dev-setup') {
    if (!values.dir) throw new Error('dev-setup needs --dir DIR');
    process.stdout.write(`${JSON.stringify(await devSetup(values.dir))}\n`);
    return 0;
  }
  if (command === 'topics' && sub === 'ensure') {
    const env = parseEnv(z.object({ ...kafkaEnvFragment, KAFKA_BROKERS: envList }));
    const kafka = createKafka(kafkaConnectionFromEnv(env, process.env, 'payrail-cli'));
    const created = await ensureTopics(kafka, Number(values.replication));
    process.stderr.write(`topics created: ${created.length === 0 ? 'none (all exist)' : created.join(', ')}\n`);
    return 0;
  }
  if (command === 'settlement') {
    return runSettlementCommand(sub, process.env, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
  }
  if (command === 'console-password') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    process.stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  }
  process.stderr.write(`usage: payrail dev-setup --dir DIR | payrail topics ensure [--replication N] | payrail settlement check|reconcile|rebuild | payrail console-password < password | payrail dlq ...\n${DLQ_USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`payrail: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
