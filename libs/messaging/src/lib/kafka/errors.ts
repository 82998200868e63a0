/**
 * Thrown by a handler for a message that can never succeed (business-invalid, undecodable): it goes to the
 * stage's dead-letter topic at once. Any other error is treated as transient and retried with backoff.
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
