/**
 * Ingestion errors. The only exception parseAlertPayload ever lets out is IngestError; the API layer turns
 * it into a 400 that names the shapes tried and the closest mismatch.
 */

export interface IngestMismatch {
  /** Shape name as listed in `shapesTried` (e.g. `azure-common`, `alertmanager-v4`). */
  shape: string;
  /** Where the payload stopped matching, JSONPath-like (`data.essentials.alertRule`, `alerts[2].status`). `$` = the body. */
  path: string;
  /** What the shape needs there. */
  expected: string;
  /** What was found there (`missing`, `number`, `"foo"` …). */
  actual: string;
}

export interface IngestErrorDetails {
  shapesTried: string[];
  /**
   * The mismatch of the shape that matched the payload furthest (most checks passed before the failure; ties go
   * to the earlier shape). For a payload that is clearly meant as shape X this is X's problem.
   */
  firstMismatch: IngestMismatch;
  /** One mismatch per shape tried, in the order tried. */
  mismatches: IngestMismatch[];
}

export class IngestError extends Error {
  readonly details: IngestErrorDetails;
  constructor(message: string, details: IngestErrorDetails) {
    super(message);
    this.name = 'IngestError';
    this.details = details;
  }
  get shapesTried(): string[] {
    return this.details.shapesTried;
  }
  get firstMismatch(): IngestMismatch {
    return this.details.firstMismatch;
  }
  toJSON(): { message: string } & IngestErrorDetails {
    return { message: this.message, ...this.details };
  }
}

/**
 * Internal: thrown by a shape parser when the payload does not fit it. `score` counts the structural checks
 * that passed before this one, so the detector can tell "not this shape at all" (score 0) from "this shape,
 * but broken at …".
 */
export class ShapeMismatch extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    readonly score: number,
  ) {
    super(`${path}: expected ${expected}, found ${actual}`);
  }
}
