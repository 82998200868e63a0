// payrail: the operators' command line.
//   payrail dev-setup --dir DIR [--owner UID:GID]   development keys and demo upstreams (prints their paths as JSON);
//                                    --owner hands the containers' key files to their user (docker compose)
//   payrail topics ensure            creates every topic of the contracts catalogue that is missing, then waits
//                                    until the broker coordinates consumer groups and hands out producer ids
//   payrail dlq list|inspect|replay  dead letters: list, inspect, replay to their original topic (docs/dead-letters.md)
//   payrail settlement check | reconcile | rebuild   the ledger's invariants, reconcile and rebuild from Kafka
//   payrail console-password         reads a password on stdin, prints its scrypt hash for the console's users file
//   payrail signing-keys list|add|activate|retire|remove --file FILE [--kid KID] [--alg ES256|EdDSA|PS256]
//                                    the key rotation steps on the signing service's key file (docs/runbooks/key-rotation.md)
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { awaitCoordinators, createKafka, ensureAcls, ensureTopics, kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { SIGNING_ALGS, hashPassword } from '@payrail/crypto';
import { devSetup, handOverToContainers } from './dev-setup';
import { DLQ_USAGE, runDlq } from './dlq/dlq.command';
import { runSettlementCommand } from './settlement';
import { SigningKeysAction, runSigningKeys } from './signing-keys';

const SIGNING_KEYS_ACTIONS: readonly SigningKeysAction[] = ['list', 'add', 'activate', 'retire', 'remove'];

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'dlq') {
    return runDlq(argv.slice(1), { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`) });
  }
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { dir: { type: 'string' }, replication: { type: 'string', default: '1' }, file: { type: 'string' }, owner: { type: 'string' }, kid: { type: 'string' }, alg: { type: 'string' } } });
  const [command, sub] = positionals;
  if (command === 'dev-setup') {
    if (!values.dir) throw new Error('dev-setup needs --dir DIR');
    const setup = await devSetup(values.dir);
    if (values.owner) handOverToContainers(setup, values.owner);
    process.stdout.write(`${JSON.stringify(setup)}\n`);
    return 0;
  }
  if (command === 'topics' && sub === 'ensure') {
    const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-cli'));
    const created = await ensureTopics(kafka, Number(values.replication));
    process.stderr.write(`topics created: ${created.length === 0 ? 'none (all exist)' : created.join(', ')}\n`);
    // the brokers' authorizer is on (docs/operations.md, "Kafka principals and ACLs"): each principal gets exactly
    // the table's ACLs; a broker without an authorizer (SECURITY_DISABLED) is refused rather than left open
    const acls = await ensureAcls(kafka);
    process.stderr.write(`ACLs: ${acls.created} created, ${acls.deleted} stale removed\n`);
    const waitedMs = await awaitCoordinators(kafka);
    process.stderr.write(`group and producer-id coordination ready (waited ${waitedMs} ms)\n`);
    return 0;
  }
  if (command === 'settlement') {
    return runSettlementCommand(sub, process.env, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
  }
  if (command === 'signing-keys') {
    const action = SIGNING_KEYS_ACTIONS.find((a) => a === sub);
    if (!action || !values.file) throw new Error(`signing-keys needs one of ${SIGNING_KEYS_ACTIONS.join(', ')} and --file FILE`);
    const alg = SIGNING_ALGS.find((a) => a === values.alg);
    if (values.alg !== undefined && alg === undefined) throw new Error(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
    const keys = await runSigningKeys({ action, file: values.file, kid: values.kid, alg });
    process.stdout.write(`${JSON.stringify({ file: values.file, keys })}\n`);
    return 0;
  }
  if (command === 'console-password') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    process.stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  }
  process.stderr.write(`usage: payrail dev-setup --dir DIR | payrail topics ensure [--replication N] | payrail settlement check|reconcile|rebuild | payrail console-password < password | payrail signing-keys list|add|activate|retire|remove --file FILE [--kid KID] [--alg ALG] | payrail dlq ...\n${DLQ_USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`payrail: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
