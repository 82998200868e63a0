export * from './lib/logging';
export * from './lib/problem.filter';
export * from './lib/bootstrap';
