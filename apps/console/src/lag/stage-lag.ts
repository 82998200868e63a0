// Consumer lag per stage: for each processing consumer group (CONSUMER_GROUP_SUBSCRIPTIONS), how many messages
// on its topics it has not committed yet; and how many dead letters each stage's dead-letter topic holds.
import { CONSUMER_GROUP_SUBSCRIPTIONS, ConsumerGroupSubscription, CONSUMER_GROUPS, ConsumerGroupKey, DEAD_LETTER_TOPICS, TOPICS } from '@payrail/contracts';
import type { GroupLag, TopicExtent } from '@payrail/messaging';
import { STAGES, Stage } from '../flow/flow-statistics';

/** The part of the messaging library's ConsumerLagReader the console uses. */
export interface LagReader {
  groupLag(groupId: string, topics: readonly string[]): Promise<GroupLag>;
  extents(topics: readonly string[]): Promise<TopicExtent[]>;
}

export interface StageLagView {
  readonly stage: Stage;
  /** Total over the stage's groups. */
  readonly lag: string;
  readonly groups: { group_id: string; lag: string; topics: { topic: string; lag: string }[] }[];
}

export interface LagView {
  readonly checked_at?: string;
  readonly error?: string;
  readonly stages: StageLagView[];
  /** Dead letters each stage's dead-letter topic holds now. */
  readonly dead_letters_retained: Partial<Record<Stage, string>>;
}

export class StageLag {
  private view: LagView = { stages: [], dead_letters_retained: {} };

  constructor(private readonly reader: LagReader) {}

  current(): LagView {
    return this.view;
  }

  async refresh(): Promise<void> {
    try {
      const groups = (Object.entries(CONSUMER_GROUP_SUBSCRIPTIONS) as [ConsumerGroupKey, ConsumerGroupSubscription][]).map(([key, s]) => ({
        stage: s.service,
        groupId: CONSUMER_GROUPS[key],
        topics: s.topics.map((t) => TOPICS[t].name),
      }));
      const [lags, extents] = await Promise.all([Promise.all(groups.map((g) => this.reader.groupLag(g.groupId, g.topics))), this.reader.extents(Object.values(DEAD_LETTER_TOPICS))]);
      const stages: StageLagView[] = STAGES.map((stage) => {
        const mine = lags.filter((_, i) => groups[i]?.stage === stage);
        return {
          stage,
          lag: mine.reduce((n, g) => n + BigInt(g.lag), 0n).toString(),
          groups: mine.map((g) => ({ group_id: g.groupId, lag: g.lag, topics: g.topics.map((t) => ({ topic: t.topic, lag: t.lag })) })),
        };
      });
      const retained: Partial<Record<Stage, string>> = {};
      for (const stage of STAGES) {
        const extent = extents.find((e) => e.topic === DEAD_LETTER_TOPICS[stage]);
        if (extent) retained[stage] = extent.retained;
      }
      this.view = { checked_at: new Date().toISOString(), stages, dead_letters_retained: retained };
    } catch (err) {
      // keep the last figures, say why they are not fresh
      this.view = { ...this.view, error: `lag unavailable: ${(err as Error).message}` };
      throw err;
    }
  }
}
