export * from './lib/log-context';
export * from './lib/trace-context';
export * from './lib/sdk';
