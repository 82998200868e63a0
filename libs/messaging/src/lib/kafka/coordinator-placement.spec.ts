import { groupIdsCovering, offsetsPartitionOf } from './kafka-client';

describe('where Kafka places a consumer group (GroupCoordinator.partitionFor)', () => {
  it('hashes like Java String#hashCode, sign bit cleared', () => {
    // "hello".hashCode() == 99162322; "Aa" and "BB" collide at 2112; "polygenelubricants" hashes to Integer.MIN_VALUE
    expect(offsetsPartitionOf('hello', 2_147_483_647)).toBe(99_162_322);
    expect(offsetsPartitionOf('Aa', 50)).toBe(2112 % 50);
    expect(offsetsPartitionOf('BB', 50)).toBe(2112 % 50);
    expect(offsetsPartitionOf('polygenelubricants', 12)).toBe(0);
  });

  it('finds one group id per partition of the offsets topic', () => {
    for (const partitions of [1, 12, 50]) {
      const ids = groupIdsCovering(partitions, 'probe-');
      expect(ids.map((id) => offsetsPartitionOf(id, partitions))).toEqual(Array.from({ length: partitions }, (_, p) => p));
    }
  });
});
