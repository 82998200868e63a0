// @payrail/testing: helpers for end-to-end tests that look at what the running system wrote (Kafka, Redis, logs).
export * from './lib/plaintext-detector';
export * from './lib/written-data';
export * from './lib/kafka-probe';
