// The blocklists' durable record: every change is an event on the compacted blocklist topic, keyed by its entry
// ("<list>:<value>"), so the topic keeps the latest change of each entry. Replaying it into Redis (on start, and
// after a Redis loss) rebuilds the lists; the latest change of each entry wins and Redis applies a change only when
// it is newer than what it holds (RedisBlocklistStore.apply), so replaying twice changes nothing.
import { BlocklistChanged, TOPIC_RESTORES, TOPICS } from '@payrail/contracts';
import { EventProducer, Kafka, decode, partitionRanges, readPartitionRanges } from '@payrail/messaging';
import { BlocklistEntry, BlocklistName } from './blocklist';
import { ReplayedBlocklistChange, changeVersion } from './redis-blocklist.store';

/** Port (and DI token): where a blocklist change is published before Redis applies it. */
export abstract class BlocklistJournal {
  abstract publish(change: BlocklistChanged): Promise<void>;
}

export function blocklistChange(list: BlocklistName, value: string, change: 'put' | 'removed', by: { operator: string; at: string; request_id: string; reason?: string }): BlocklistChanged {
  return { entry_id: `${list}:${value}`, list, value, change, reason: by.reason, changed_by: by.operator, changed_at: by.at, request_id: by.request_id };
}

/** The change as the Redis store applies it on replay. */
export function toReplayedChange(c: BlocklistChanged): ReplayedBlocklistChange {
  const version = changeVersion(c.changed_at, c.request_id);
  if (c.change === 'removed') return { list: c.list, version, change: 'removed', value: c.value };
  const entry: BlocklistEntry = { value: c.value, reason: c.reason, added_by: c.changed_by, added_at: c.changed_at };
  return { list: c.list, version, change: 'put', entry };
}

/** Keeps the latest change of each entry (by version), whatever order the partitions were read in. */
export function latestPerEntry(changes: Iterable<BlocklistChanged>): BlocklistChanged[] {
  const latest = new Map<string, BlocklistChanged>();
  for (const c of changes) {
    const seen = latest.get(c.entry_id);
    if (!seen || changeVersion(seen.changed_at, seen.request_id) < changeVersion(c.changed_at, c.request_id)) latest.set(c.entry_id, c);
  }
  return [...latest.values()];
}

export class KafkaBlocklistJournal extends BlocklistJournal {
  constructor(
    private readonly producer: EventProducer,
    private readonly kafka: Kafka,
  ) {
    super();
  }

  /** Resolves once the broker acknowledged the change (acks=all). */
  async publish(change: BlocklistChanged): Promise<void> {
    await this.producer.publish(TOPICS.fraudBlocklist, change, { key: change.entry_id, correlationId: change.request_id, eventId: `${change.request_id}:blocklist` });
  }

  /** Every change on the topic up to its end when the read started, the latest per entry. */
  async readLatest(): Promise<{ changes: BlocklistChanged[]; undecodable: number }> {
    const ranges = await partitionRanges(this.kafka, TOPICS.fraudBlocklist.name);
    const read: BlocklistChanged[] = [];
    let undecodable = 0;
    await readPartitionRanges(
      this.kafka,
      ranges,
      (_topic, _partition, message) => {
        try {
          read.push(decode(TOPICS.fraudBlocklist, message).data as BlocklistChanged);
        } catch {
          undecodable++;
        }
        return 'continue';
      },
      { clientLabel: TOPIC_RESTORES.fraudBlocklist.label },
    );
    return { changes: latestPerEntry(read), undecodable };
  }
}
