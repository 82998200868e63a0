import { CONSUMER_GROUPS, DEAD_LETTER_TOPICS, TOPICS } from '@payrail/contracts';
import type { GroupLag, TopicExtent } from '@payrail/messaging';
import { LagReader, StageLag } from './stage-lag';

/** Lags per (group, topic) as the admin API would report them. */
function reader(lags: Record<string, Record<string, string>>, fail = false): LagReader {
  return {
    groupLag: async (groupId, topics): Promise<GroupLag> => {
      if (fail) throw new Error('broker unreachable');
      const perTopic = topics.map((topic) => ({ topic, partitions: [], lag: lags[groupId]?.[topic] ?? '0' }));
      return { groupId, topics: perTopic, lag: perTopic.reduce((n, t) => n + BigInt(t.lag), 0n).toString() };
    },
    extents: async (topics): Promise<TopicExtent[]> => topics.map((topic) => ({ topic, retained: topic === DEAD_LETTER_TOPICS.settlement ? '3' : '0', written: '0' })),
  };
}

describe('StageLag', () => {
  it('sums the lag of every consumer group of a stage, and reports dead letters held per stage', async () => {
    const lag = new StageLag(
      reader({
        [CONSUMER_GROUPS.ingestInbound]: { [TOPICS.paymentsInbound.name]: '2' },
        [CONSUMER_GROUPS.ingestStatus]: { [TOPICS.paymentsScreened.name]: '5' },
        [CONSUMER_GROUPS.fraudCheck]: { [TOPICS.paymentsSigned.name]: '9007199254740993' },
      }),
    );
    await lag.refresh();
    const view = lag.current();
    expect(view.stages.map((s) => [s.stage, s.lag])).toEqual([
      ['ingest', '7'],
      ['signing', '0'],
      ['fraud-check', '9007199254740993'],
      ['settlement', '0'],
    ]);
    expect(view.stages[0]?.groups.map((g) => g.group_id)).toEqual([CONSUMER_GROUPS.ingestInbound, CONSUMER_GROUPS.ingestStatus]);
    expect(view.stages[1]?.groups.map((g) => g.group_id)).toEqual([CONSUMER_GROUPS.signing, CONSUMER_GROUPS.signingReports]);
    expect(view.dead_letters_retained).toEqual({ ingest: '0', signing: '0', 'fraud-check': '0', settlement: '3' });
    expect(view.error).toBeUndefined();
  });

  it('keeps the last figures and says why when Kafka cannot be asked', async () => {
    let fail = false;
    const lag = new StageLag({ groupLag: (g, t) => reader({}, fail).groupLag(g, t), extents: (t) => reader({}).extents(t) });
    await lag.refresh();
    fail = true;
    await expect(lag.refresh()).rejects.toThrow('broker unreachable');
    expect(lag.current().stages.length).toBe(4);
    expect(lag.current().error).toBe('lag unavailable: broker unreachable');
  });
});
