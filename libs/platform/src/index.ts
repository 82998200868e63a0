export * from './lib/logging';
export * from './lib/problem.filter';
export * from './lib/bootstrap';
export * from './lib/client-throttle';
