export * from './currencies';
export * from './money';
export * from './money.schema';
