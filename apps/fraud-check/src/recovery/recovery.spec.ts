// The restore after a Redis loss without Redis or Kafka: who restores (the lease), that screening waits for it and
// never fails meanwhile (the gate), and the order a payment's screened events are applied in.
import type { BlocklistChanged, PaymentScreened } from '@payrail/contracts';
import { eventsByPayment, noDecisionsRestored } from './decision-restore';
import { OperationsRecovery, OperationsSource } from './operations-recovery';
import { RecoveryGate } from './recovery-gate';
import type { RestoreLease } from './recovery-lease';

const screened = (paymentId: string, decision: PaymentScreened['decision'], review?: PaymentScreened['review']): PaymentScreened => ({
  payment_id: paymentId,
  merchant_id: 'm-1',
  amount: { minor: '1050', currency: 'EUR' },
  decision,
  score: decision === 'APPROVE' ? 0 : 60,
  reasons: [],
  ruleset_version: 'v1',
  screened_at: '2025-03-01T09:15:03.000Z',
  review,
  instruction_jws: 'h.p.s',
});

/** A Redis with a marker and a lease, as the scripts keep them; `lose()` empties it. */
class FakeRedisState {
  marker: string | null = null;
  lease: string | null = null;
  lose(): void {
    this.marker = null;
    this.lease = null;
  }
}

class FakeLease implements RestoreLease {
  constructor(
    private readonly state: FakeRedisState,
    private readonly id: string,
  ) {}
  async acquire(): Promise<boolean> {
    if (this.state.lease !== null && this.state.lease !== this.id) return false;
    this.state.lease = this.id;
    return true;
  }
  hold<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }
  async finish(): Promise<boolean> {
    if (this.state.lease !== this.id) return false;
    this.state.marker = 'life';
    this.state.lease = null;
    return true;
  }
}

function recoveryOver(state: FakeRedisState, options: { holder?: string; duringReplay?: () => void; sleep?: (ms: number) => Promise<void> } = {}) {
  const calls = { blocklistReads: 0, decisionReplays: 0, audits: 0, applied: [] as PaymentScreened[][] };
  const change: BlocklistChanged = { entry_id: 'ip:203.0.113.7', list: 'ip', value: '203.0.113.7', change: 'put', changed_by: 'ops', changed_at: '2025-03-01T09:00:00.000Z', request_id: 'r-1' };
  const source: OperationsSource = {
    readLatestBlocklistChanges: async () => {
      calls.blocklistReads++;
      return { changes: [change], undecodable: 0 };
    },
    readRecentAudit: async () => [],
    replayDecisions: async (apply) => {
      calls.decisionReplays++;
      await apply([screened('p-1', 'REVIEW'), screened('p-1', 'APPROVE', { analyst: 'a', decided_at: '2025-03-01T10:00:00.000Z' })]);
      options.duringReplay?.();
      return { read: 2, undecodable: 1 };
    },
  };
  const recovery = new OperationsRecovery(
    source,
    { apply: async () => true },
    {
      lifeMarker: async () => state.marker,
      restore: async () => {
        calls.audits++;
        return 0;
      },
    },
    100,
    {
      apply: async (events, counts) => {
        calls.applied.push([...events]);
        counts.events += events.length;
      },
    },
    new FakeLease(state, options.holder ?? 'this-instance'),
    { waitPollMs: 1, sleep: options.sleep },
  );
  return { recovery, calls };
}

describe('recovery after a Redis loss', () => {
  it('only replays the blocklists at start when Redis kept its marker', async () => {
    const state = new FakeRedisState();
    state.marker = 'life';
    const { recovery, calls } = recoveryOver(state);
    expect(await recovery.recover()).toEqual({ blocklistChanges: 1, blocklistApplied: 1, undecodable: 0, auditRestored: -1, restoredBy: 'none' });
    expect(calls.decisionReplays).toBe(0);
    expect(await recovery.recoverIfLost()).toBeUndefined();
  });

  it('restores blocklists, audit trail and decisions under the lease, and writes the marker last', async () => {
    const state = new FakeRedisState();
    const { recovery, calls } = recoveryOver(state, { duringReplay: () => expect(state.marker).toBeNull() });
    const report = await recovery.recoverIfLost();
    expect(report).toMatchObject({ restoredBy: 'this', blocklistApplied: 1, undecodable: 1, auditRestored: 0, decisions: { ...noDecisionsRestored(), events: 2 } });
    expect(state.marker).toBe('life');
    expect(state.lease).toBeNull();
    expect(calls.applied).toHaveLength(1);
  });

  it('waits for the marker while another instance holds the lease, replaying nothing itself', async () => {
    const state = new FakeRedisState();
    state.lease = 'other-instance';
    let polls = 0;
    const { recovery, calls } = recoveryOver(state, {
      sleep: async () => {
        // the other instance finishes after a few polls
        if (++polls === 3) {
          state.marker = 'life';
          state.lease = null;
        }
      },
    });
    expect(await recovery.recoverIfLost()).toMatchObject({ restoredBy: 'other' });
    expect(polls).toBe(3);
    expect(calls.decisionReplays).toBe(0);
  });

  it('takes over when the holder stopped renewing (its lease lapsed)', async () => {
    const state = new FakeRedisState();
    state.lease = 'crashed-instance';
    const { recovery, calls } = recoveryOver(state, { sleep: async () => void (state.lease = null) });
    expect(await recovery.recoverIfLost()).toMatchObject({ restoredBy: 'this' });
    expect(calls.decisionReplays).toBe(1);
  });

  it('restores again when Redis lost its data during the restore (the lease went with it), never marking half a restore done', async () => {
    const state = new FakeRedisState();
    let losses = 0;
    const { recovery, calls } = recoveryOver(state, { duringReplay: () => void (losses++ === 0 && state.lose()) });
    expect(await recovery.recoverIfLost()).toMatchObject({ restoredBy: 'this' });
    expect(calls.decisionReplays).toBe(2);
    expect(state.marker).toBe('life');
  });
});

describe('the screening gate', () => {
  function gateOver(port: { intact: () => Promise<boolean>; restore: () => Promise<void> }) {
    let now = 0;
    const errors: string[] = [];
    const gate = new RecoveryGate(port, { recheckMs: 500, retryMs: 10, onError: (err) => errors.push(err.message), now: () => now, sleep: async () => undefined });
    return { gate, errors, advance: (ms: number) => (now += ms) };
  }

  it('reads the marker at most once per interval while Redis keeps it', async () => {
    let reads = 0;
    const { gate, advance } = gateOver({ intact: async () => (reads++, true), restore: async () => undefined });
    await gate.ready();
    await gate.ready();
    advance(499);
    await gate.ready();
    expect(reads).toBe(1);
    advance(1);
    await gate.ready();
    expect(reads).toBe(2);
  });

  it('waits for the restore when the marker is missing, one wait shared by every caller', async () => {
    let intact = false;
    let restores = 0;
    let finish: () => void = () => undefined;
    const { gate } = gateOver({
      intact: async () => intact,
      restore: () => {
        restores++;
        return new Promise<void>((resolve) => (finish = () => ((intact = true), resolve())));
      },
    });
    let passed = 0;
    const waiting = [gate.ready(), gate.ready(), gate.ready()].map((p) => p.then(() => passed++));
    await new Promise((r) => setImmediate(r));
    expect(passed).toBe(0);
    finish();
    await Promise.all(waiting);
    expect(passed).toBe(3);
    expect(restores).toBe(1);
  });

  it('never fails while Redis or Kafka is unreachable: it reports and tries again', async () => {
    let attempts = 0;
    let intact = false;
    const { gate, errors } = gateOver({
      intact: async () => {
        if (++attempts <= 2) throw new Error('connection refused');
        return intact;
      },
      restore: async () => {
        intact = true;
      },
    });
    await expect(gate.ready()).resolves.toBeUndefined();
    expect(errors).toEqual(['connection refused', 'connection refused']);
  });

  it('forgets a seen marker as soon as screening reads it missing', async () => {
    let intact = true;
    let restores = 0;
    const { gate } = gateOver({ intact: async () => intact, restore: async () => void (restores++, (intact = true)) });
    await gate.ready();
    intact = false;
    expect(await gate.intact()).toBe(false);
    await gate.ready();
    expect(restores).toBe(1);
  });
});

describe('screened events in restore order', () => {
  it('keeps each payment’s events in the order read, payments in the order first seen', () => {
    const events = [screened('p-1', 'REVIEW'), screened('p-2', 'APPROVE'), screened('p-1', 'DECLINE', { analyst: 'a', decided_at: '2025-03-01T10:00:00.000Z' }), screened('p-2', 'APPROVE')];
    expect(eventsByPayment(events).map((list) => list.map((e) => `${e.payment_id}:${e.decision}`))).toEqual([
      ['p-1:REVIEW', 'p-1:DECLINE'],
      ['p-2:APPROVE', 'p-2:APPROVE'],
    ]);
  });
});
