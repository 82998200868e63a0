// Acceptance: SIGTERM to one of two consumer processes during a steady stream. The stopped one finishes or abandons
// its in-flight batch, commits what finished, leaves the group and exits well within Kubernetes' 30 s grace period;
// the other instance (already in the group) takes over its partitions; no payment is lost or applied twice.
import type { PaymentSettled } from '@payrail/contracts';
import { TestBed, appliedCount, checkWorkerLedger, settledPayment, uncommitted, waitUntil } from '../test/kafka-test-kit';

const PARTITIONS = 6;
/** The acceptance bound from the issue (and Kubernetes' default grace period). */
const SHUTDOWN_BOUND_MS = 30_000;

describe('acceptance: SIGTERM during a steady stream', () => {
  const bed = new TestBed('sigterm', { partitions: PARTITIONS, redis: true });
  beforeAll(bed.setUp);
  afterAll(bed.tearDown);

  const startWorker = (name: string) => bed.startWorker({ WORKER_NAME: name, WORKER_HANDLER_DELAY_MS: '2' });

  it('the stopped instance exits in under 30 s, the other takes over its partitions, and nothing is lost or doubled', async () => {
    const merchants = bed.merchants(24);
    const { redis, kafka, groupId } = bed;
    const stopped = startWorker('stopped');
    await stopped.waitFor('started', 60_000);
    const survivor = startWorker('survivor');
    // both in the group, sharing the partitions
    await survivor.waitFor('joined', 60_000, (l) => Number(l['partitions']) > 0 && Number(l['partitions']) < PARTITIONS);
    await stopped.waitFor('joined', 60_000, (l) => Number(l['partitions']) > 0 && Number(l['partitions']) < PARTITIONS);

    // a steady stream: 50 payments every 100 ms (500/s) for 8 s; SIGTERM after 3 s
    const payments: PaymentSettled[] = [];
    const publishedAt = new Map<string, number>();
    const sends: Promise<void>[] = [];
    let sigtermAt = 0;
    for (let tick = 0; tick < 80; tick++) {
      for (let i = 0; i < 50; i++) {
        const p = settledPayment(payments.length, merchants);
        payments.push(p);
        publishedAt.set(p.payment_id, Date.now());
        sends.push(bed.publish(p));
      }
      if (tick === 30) {
        sigtermAt = Date.now();
        stopped.kill('SIGTERM');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(sends);

    const exit = await stopped.exited;
    const shutdownMs = exit.at - sigtermAt;
    expect(exit.code).toBe(0);
    expect(shutdownMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    const reportedStop = await stopped.waitFor('stopped', 0);

    await waitUntil(async () => (await appliedCount(redis, merchants)) >= payments.length, 60_000, 'every payment applied');
    await waitUntil(async () => (await uncommitted(kafka, groupId, bed.topic.name)) === 0, 30_000, 'the survivor to commit everything');
    // the survivor holds every partition now
    const takeover = await survivor.waitFor('joined', 30_000, (l) => Number(l['partitions']) === PARTITIONS && l.at > sigtermAt);

    const { ledger, mismatches } = await checkWorkerLedger(redis, payments);
    expect(mismatches).toEqual([]);
    // everything published after the stopped instance had gone was applied by the survivor
    const appliedBy = new Map<string, string>();
    for (const m of ledger.values()) for (const [payment, worker] of Object.entries(m.appliedBy)) appliedBy.set(payment, worker);
    const byStopped = [...appliedBy.values()].filter((w) => w === 'stopped').length;
    const afterExit = payments.filter((p) => (publishedAt.get(p.payment_id) ?? 0) > exit.at);
    expect(afterExit.length).toBeGreaterThan(0);
    expect(afterExit.filter((p) => appliedBy.get(p.payment_id) !== 'survivor')).toEqual([]);
    expect(byStopped).toBeGreaterThan(0);
    console.log(
      `sigterm acceptance: ${payments.length} payments at 500/s; SIGTERM -> exit ${shutdownMs} ms (consumer stop ${String(reportedStop['ms'])} ms); ` +
        `survivor held all ${PARTITIONS} partitions ${takeover.at - sigtermAt} ms after SIGTERM; ${byStopped} applied by the stopped instance, ` +
        `${payments.length - byStopped} by the survivor; ${survivor.count('duplicate')} redeliveries absorbed`,
    );
  });
});
