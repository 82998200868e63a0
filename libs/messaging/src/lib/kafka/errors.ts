/**
 * Thrown by a handler for a message that can never succeed (business-invalid, undecodable): it goes to the
 * stage's dead-letter topic at once. Any other error is treated as transient and retried with backoff (a few
 * attempts, then dead-lettered), except DependencyUnavailableError.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError' as string;
  constructor(message: string, readonly reason = 'permanent') {
    super(message);
  }
}

export class UndecodableMessageError extends PermanentError {
  override readonly name = 'UndecodableMessageError';
}

export class SchemaInvalidError extends PermanentError {
  override readonly name = 'SchemaInvalidError';
}

export class WrongVersionError extends PermanentError {
  override readonly name = 'WrongVersionError';
}

/**
 * Thrown by a handler when something it needs cannot answer (a JWKS endpoint, a store): nothing is wrong with the
 * message. The consumer retries it, with a backoff growing to a few seconds and heartbeats in between, for as long
 * as the outage lasts; it is never dead-lettered for it and never counts against the attempts. If the consumer
 * stops meanwhile, the message stays uncommitted and is consumed again after the restart.
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: string,
    message: string,
  ) {
    super(`${dependency} unavailable: ${message}`);
  }
}
