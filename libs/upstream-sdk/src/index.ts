export * from './lib/upstream-client';
export * from './lib/demo-payments';
export * from './lib/registration';
export * from './lib/inbound-encryption';
