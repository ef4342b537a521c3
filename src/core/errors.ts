/**
 * Domain errors of the application services. Services throw these; only src/server maps them to HTTP
 * (404, 409, 400 with the field paths, 403). A problem's `path` is relative to the input it names
 * (`serverUrl`, `itsmReceivers/0/name`); `in` says which input (the body by default, or the resource name).
 */
export interface Problem {
  path: string;
  message: string;
  /** The valid values, when there is a closed set. */
  allowed?: string[];
  in?: 'body' | 'params' | 'query';
}

export abstract class DomainError extends Error {
  abstract readonly kind: 'not-found' | 'conflict' | 'invalid' | 'forbidden';
}

export class NotFoundError extends DomainError {
  readonly kind = 'not-found';
}

export class ConflictError extends DomainError {
  readonly kind = 'conflict';
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}

export class InvalidError extends DomainError {
  readonly kind = 'invalid';
  /** `problems` in order of importance; the message names the first unless given. */
  constructor(
    readonly problems: Problem[],
    message?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message ?? (problems.length ? `${where(problems[0])}${problems[0].path}: ${problems[0].message}` : 'invalid input'));
  }
}

/** Body fields are named bare (`serverUrl`); other inputs with their source (`params/name`). */
function where(p: Problem): string {
  return p.in && p.in !== 'body' ? `${p.in}/` : '';
}
