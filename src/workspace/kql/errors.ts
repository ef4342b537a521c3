/** The one error type the KQL engine throws. */

export type KqlErrorCode = 'BadArgumentError' | 'SyntaxError' | 'SemanticError' | 'UnsupportedError' | 'QueryTimeout' | 'InternalError';

export interface KqlPosition {
  /** 1-based line. */
  line: number;
  /** 1-based column (characters). */
  column: number;
  /** 0-based character offset in the query text. */
  offset: number;
}

export class KqlError extends Error {
  override name = 'KqlError';
  readonly code: KqlErrorCode;
  readonly position?: KqlPosition;
  /** Kusto diagnostic code (KS142, …) or our own (UNS0001, …). */
  readonly innerCode?: string;
  /** Length of the offending text, when known. */
  readonly length?: number;

  constructor(code: KqlErrorCode, message: string, opts: { position?: KqlPosition; innerCode?: string; length?: number } = {}) {
    super(message);
    this.code = code;
    this.position = opts.position;
    this.innerCode = opts.innerCode;
    this.length = opts.length;
  }
}

/** Offset → 1-based line/column in `text`. */
export function positionOf(text: string, offset: number): KqlPosition {
  const off = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < off; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: off - lineStart + 1, offset: off };
}

export function kqlErrorAt(
  code: KqlErrorCode,
  text: string,
  span: { offset: number; length?: number } | undefined,
  message: string,
  innerCode?: string,
): KqlError {
  if (!span) return new KqlError(code, message, { innerCode });
  const position = positionOf(text, span.offset);
  return new KqlError(code, `${message} (line ${position.line}, column ${position.column})`, {
    position,
    innerCode,
    length: span.length,
  });
}
