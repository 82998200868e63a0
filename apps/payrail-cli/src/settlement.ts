// payrail settlement check | reconcile | rebuild: the ledger's operator commands. They read the same environment
// as the settlement service (REDIS_URL, REDIS_KEY_PREFIX, KAFKA_BROKERS, SIGNING_JWKS_URL or SIGNING_JWKS_FILE,
// SIGNING_JWKS_ALLOW_HTTP, FRAUD_CHECK_SEAL_JWKS_FILE, SETTLEMENT_SEAL_JWKS_FILE, FEE_BPS, FEE_FIXED_MINOR, BATCH_CUTOFF_S, BATCH_MAX_PAYMENTS), print a JSON report on
// stdout and a summary with every discrepancy on stderr, and exit 1 when anything is wrong.
//   check      the invariants Redis proves (balances sum to 0, batch totals, each payment in one batch, no held
//              payment posted), plus, with Kafka, every approved payment posted exactly once and no declined or
//              in-review payment posted (a reconcile)
//   reconcile  recompute the ledger from the screened topic and compare it with Redis
//   rebuild    restore the ledger in Redis from Kafka (the service does it by itself when Redis lost its data; this
//              runs the same restore on demand, under the same lease, and says what differs from Kafka's facts)
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { envList, parseEnv, peerSealJwks, signingJwksEnvFragment, signingJwksPlainHttpWarning, signingJwksSource } from '@payrail/config';
import { EVENT_SEAL_TYPES, PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE } from '@payrail/contracts';
import { CryptoError, PeerSealKeys, checkJwksUrl, openPayrailVerifier } from '@payrail/crypto';
import { LedgerRepository, checkInvariants, instructionVerifier, ledgerEnvFragment, ledgerEvidence, ledgerSettings, reconcile, restoreLedger } from '@payrail/ledger';
import { createKafka, createRedis, kafkaConnectionFromEnv, kafkaEnvFragment, redisConnectionFromEnv, redisEnvFragment } from '@payrail/messaging';

const RedisOnlyEnv = z.object({ ...redisEnvFragment, ...ledgerEnvFragment });
const FullEnv = z.object({ ...redisEnvFragment, ...ledgerEnvFragment, ...kafkaEnvFragment, KAFKA_BROKERS: envList, ...signingJwksEnvFragment, FRAUD_CHECK_SEAL_JWKS_FILE: peerSealJwks('fraud-check'), SETTLEMENT_SEAL_JWKS_FILE: peerSealJwks('settlement') });

type Io = { out: (s: string) => void; err: (s: string) => void };

export async function runSettlementCommand(sub: string | undefined, env: Record<string, string | undefined>, io: Io): Promise<number> {
  if (sub !== 'check' && sub !== 'reconcile' && sub !== 'rebuild') {
    io.err('usage: payrail settlement check | reconcile | rebuild\n');
    return 2;
  }
  const withKafka = sub !== 'check' || Boolean(env['KAFKA_BROKERS']);
  const base = parseEnv(RedisOnlyEnv, env);
  // the whole environment is checked before anything connects, the JWKS URL with RemoteJwksClient's own rule
  const e = withKafka ? parseEnv(FullEnv, env) : undefined;
  const source = e ? signingJwksSource(e, checkJwksUrl) : undefined;
  const redis = createRedis(redisConnectionFromEnv(base), 'payrail-cli-settlement');
  await redis.connect();
  const ledger = new LedgerRepository(redis);
  try {
    if (!e || !source) {
      // without KAFKA_BROKERS: what Redis alone proves
      const report = await checkInvariants(ledger);
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      io.err(`invariants: ${report.ok ? 'OK' : 'VIOLATED'} (${report.merchants} merchants, ${report.batches} batches, ${report.postings} postings; currency sums ${JSON.stringify(report.currencySums)})\n`);
      for (const v of report.violations) io.err(`  ${v.invariant} merchant=${v.merchantId}${v.batchId ? ` batch=${v.batchId}` : ''}${v.paymentId ? ` payment=${v.paymentId}` : ''}: ${v.detail}\n`);
      io.err('(set KAFKA_BROKERS to also check every approved payment against the screened topic)\n');
      return report.ok ? 0 : 1;
    }
    const { fees, policy } = ledgerSettings(e);
    const kafka = createKafka(kafkaConnectionFromEnv(e, env, 'payrail-cli'));
    const plainHttp = signingJwksPlainHttpWarning(source);
    if (plainHttp) io.err(`warning: ${plainHttp.message}\n`);
    const keys = await openPayrailVerifier(source, [PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE]);
    const peers: PeerSealKeys[] = [];
    try {
      // what the ledger takes as facts: fraud-check's sealed decisions, settlement's sealed settled events and reports
      const fraudCheckSeals = await PeerSealKeys.open(e.FRAUD_CHECK_SEAL_JWKS_FILE);
      peers.push(fraudCheckSeals);
      const settlementSeals = await PeerSealKeys.open(e.SETTLEMENT_SEAL_JWKS_FILE);
      peers.push(settlementSeals);
      // the keys before any verdict: an unreachable JWKS would otherwise make every approval look unverifiable
      await keysWithRetries(keys, io);
      const verifyPayload = async (jws: string): Promise<unknown> => {
        try {
          return (await keys.verifier.verify(jws)).payload;
        } catch (err) {
          if (err instanceof CryptoError) return undefined;
          throw err;
        }
      };
      const verify = instructionVerifier(verifyPayload);
      const evidence = ledgerEvidence(
        {
          decisions: fraudCheckSeals.verifier(EVENT_SEAL_TYPES.paymentScreened),
          settled: settlementSeals.verifier(EVENT_SEAL_TYPES.paymentSettled),
          reports: settlementSeals.verifier(EVENT_SEAL_TYPES.settlementBatchReport),
        },
        verifyPayload,
      );
      if (sub === 'rebuild') {
        const outcome = await restoreLedger(kafka, ledger, { fees, policy, verify, evidence, holder: `payrail-cli-${randomUUID()}`, progress: (line) => io.err(`rebuild: ${line}\n`) });
        if (outcome.kind !== 'RESTORED') throw new Error('rebuild: the ledger was not restored');
        const report = outcome.report;
        io.out(`${JSON.stringify(report, null, 2)}\n`);
        io.err(`rebuild: ${report.postingsRestored} postings restored, ${report.postingsRecomputed} recomputed, ${report.alreadyPresent} already present, ${report.held} held, ${report.batchesClosed} batches closed, ${report.signedRecorded} signed reports; new epoch ${report.epoch}\n`);
        for (const d of report.discrepancies) io.err(`  ${d}\n`);
        return report.discrepancies.length === 0 ? 0 : 1;
      }
      const report = await reconcile(kafka, ledger, { fees, policy, verify, evidence });
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      io.err(
        `${sub}: ${report.ok ? 'OK' : 'DISCREPANCIES'}: ${report.screened.events} screened events, ${report.approved} approved, ${report.held} held; ` +
          `${report.expectedPostings} postings expected, ${report.actualPostings} in Redis; invariants ${report.invariants.ok ? 'OK' : 'VIOLATED'}\n`,
      );
      for (const d of report.discrepancies) io.err(`  ${d.kind} merchant=${d.merchantId}${d.paymentId ? ` payment=${d.paymentId}` : ''}: ${d.detail}\n`);
      for (const v of report.invariants.violations) io.err(`  ${v.invariant} merchant=${v.merchantId}${v.batchId ? ` batch=${v.batchId}` : ''}: ${v.detail}\n`);
      return report.ok ? 0 : 1;
    } finally {
      keys.close();
      for (const peer of peers) peer.close();
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Fetches Payrail's public keys, retrying a few times (signing may be restarting); throws naming the cause. */
export async function keysWithRetries(keys: { ready(): Promise<void> }, io: { err: (s: string) => void }, attempts = 6): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await keys.ready();
      return;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt >= attempts) throw new Error(`cannot fetch Payrail's public keys (SIGNING_JWKS_URL) after ${attempts} attempts: ${reason}`);
      io.err(`payrail's public keys not fetched (${reason}); retrying in ${attempt} s\n`);
      await new Promise((resolve) => setTimeout(resolve, attempt * 1000));
    }
  }
}
