// The floor's arithmetic: per-operation cost, per-payment subtotals, the actual CPU per payment, efficiency.
// Made-up costs, nothing timed.
import { PAYMENT_WORK, cpuMsPerPayment, cpuPerPayment, efficiency, floorFrom, kafkaHopCost, usPerOp, type FloorItemName, type RawCost } from './floor';

const costs: Record<FloorItemName, RawCost> = {
  es256_verify: { ops: 1_000, cpuSeconds: 0.14 }, // 140 us
  es256_sign: { ops: 1_000, cpuSeconds: 0.05 }, // 50 us
  jwe_card: { ops: 2_000, cpuSeconds: 0.3 }, // 150 us
  kafka_hop: { ops: 100_000, cpuSeconds: 8 }, // 80 us
  redis_script: { ops: 20_000, cpuSeconds: 0.4 }, // 20 us
  redis_command: { ops: 20_000, cpuSeconds: 0.2 }, // 10 us
};
const flags = { broker_cpu_included: true, redis_server_cpu_included: true, redis_shared: true };

describe('the floor', () => {
  it('costs an operation its CPU divided by how many were timed', () => {
    expect(usPerOp({ ops: 4, cpuSeconds: 0.001 })).toBeCloseTo(250, 9);
    expect(() => usPerOp({ ops: 0, cpuSeconds: 1 })).toThrow(RangeError);
  });

  it('multiplies each cost by the operations a payment needs and adds them up', () => {
    const floor = floorFrom(costs, flags);
    expect(floor.items.es256_verify).toMatchObject({ ops_per_payment: 3, us_per_op: 140, subtotal_us: 420, measured_ops: 1_000 });
    expect(floor.items.es256_sign).toMatchObject({ ops_per_payment: 1, us_per_op: 50, subtotal_us: 50 });
    expect(floor.items.jwe_card).toMatchObject({ ops_per_payment: 1, us_per_op: 150, subtotal_us: 150 });
    expect(floor.items.kafka_hop).toMatchObject({ ops_per_payment: 4, us_per_op: 80, subtotal_us: 320 });
    expect(floor.items.redis_script).toMatchObject({ ops_per_payment: 5, us_per_op: 20, subtotal_us: 100 });
    expect(floor.items.redis_command).toMatchObject({ ops_per_payment: 3, us_per_op: 10, subtotal_us: 30 });
    // 420 + 50 + 150 + 320 + 100 + 30
    expect(floor.total_us_per_payment).toBe(1_070);
    expect(floor.total_ms_per_payment).toBe(1.07);
    expect(floor).toMatchObject(flags);
  });

  it('counts every kind of work a payment needs exactly once in the total', () => {
    const unit = Object.fromEntries(Object.keys(PAYMENT_WORK).map((k) => [k, { ops: 1, cpuSeconds: 1e-6 }])) as Record<FloorItemName, RawCost>;
    const total = Object.values(PAYMENT_WORK).reduce((a, w) => a + w.opsPerPayment, 0);
    expect(floorFrom(unit, flags).total_us_per_payment).toBe(total);
    expect(total).toBe(3 + 1 + 1 + 4 + 5 + 3);
  });

  it("costs a Kafka hop its client CPU plus the broker's per message, the client's alone when the broker was not measured", () => {
    expect(usPerOp(kafkaHopCost({ messages: 10_000, clientCpuSeconds: 0.5, brokerCpuSeconds: 0.3 }))).toBeCloseTo(80, 9);
    expect(usPerOp(kafkaHopCost({ messages: 10_000, clientCpuSeconds: 0.5 }))).toBeCloseTo(50, 9);
  });
});

describe('the actual CPU per payment', () => {
  const seconds = { ingest: 2, signing: 1, 'fraud-check': 1.5, settlement: 1, kafka: 1.5, redis: 1 };

  it('is the CPU of every process over the window divided by the payments final in it', () => {
    expect(cpuMsPerPayment(seconds, 4_000)).toBeCloseTo(2, 9); // 8 s / 4,000
    expect(() => cpuMsPerPayment(seconds, 0)).toThrow(RangeError);
    const cpu = cpuPerPayment(seconds, [], 4_000, 20);
    expect(cpu).toEqual({
      window_s: 20,
      final_payments: 4_000,
      ms_per_payment: 2,
      ms_per_payment_by_process: { ingest: 0.5, signing: 0.25, 'fraud-check': 0.375, settlement: 0.25, kafka: 0.375, redis: 0.25 },
      missing: [],
    });
  });

  it('has no total when a process could not be sampled or nothing became final', () => {
    expect(cpuPerPayment(seconds, ['redis'], 4_000, 20)).toMatchObject({ ms_per_payment: null, missing: ['redis'] });
    expect(cpuPerPayment(seconds, [], 0, 20).ms_per_payment).toBeNull();
  });

  it('gives the efficiency as floor over actual', () => {
    expect(efficiency(1.07, 2.14)).toBeCloseTo(0.5, 9);
    expect(() => efficiency(1, 0)).toThrow(RangeError);
  });
});
