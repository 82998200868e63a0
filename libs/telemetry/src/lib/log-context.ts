// Fields every log line written while handling one payment carries (payment id, event id...), without passing a
// logger around: the messaging layer and the HTTP layer open a context, the logger's mixin reads it.
import { AsyncLocalStorage } from 'node:async_hooks';

export type LogFields = Readonly<Record<string, string>>;

const storage = new AsyncLocalStorage<LogFields>();

/** Runs fn with `fields` added to the current log context (nested contexts add to their parent's). */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  const parent = storage.getStore();
  return storage.run(parent ? { ...parent, ...fields } : fields, fn);
}

/** The fields of the innermost log context, or an empty object outside any. */
export function currentLogContext(): LogFields {
  return storage.getStore() ?? {};
}
