import { EventTimeError, parsePosition, type Position, type TimeBounds } from '../../domain/position.js';
import { ValidationError, type ValidationIssue } from '../../errors.js';

/** Most positions one `POST /v1/positions` may carry. */
export const MAX_POSITIONS_PER_REQUEST = 1000;

export interface RejectedItem {
  /** Index in the request array (0 for a single object). */
  index: number;
  /** `future_timestamp` / `stale_timestamp` (event time out of window) or `invalid`. */
  reason: 'invalid' | 'future_timestamp' | 'stale_timestamp';
  issues: ValidationIssue[];
}

export interface NativeBatch {
  accepted: Position[];
  rejected: RejectedItem[];
  /** Whether the body was an array (answers list items by index) or a single object. */
  batch: boolean;
}

/**
 * Validates the body of `POST /v1/positions`: one position in the wire format or an array of
 * them. Every item is checked on its own; bad items are reported and never produced.
 */
export function parseNativeBody(body: unknown, bounds: TimeBounds = {}): NativeBatch {
  const batch = Array.isArray(body);
  const items: unknown[] = batch ? body : [body];
  if (body === undefined || body === null || (!batch && typeof body !== 'object')) {
    throw new ValidationError([{ path: '', message: 'body must be a position object or an array of them' }]);
  }
  if (items.length === 0) throw new ValidationError([{ path: '', message: 'the array is empty' }]);
  if (items.length > MAX_POSITIONS_PER_REQUEST) {
    throw new ValidationError([
      {
        path: '',
        message: `at most ${MAX_POSITIONS_PER_REQUEST} positions per request (got ${items.length})`,
      },
    ]);
  }
  const now = bounds.now ?? Date.now();
  const accepted: Position[] = [];
  const rejected: RejectedItem[] = [];
  items.forEach((item, index) => {
    try {
      accepted.push(parsePosition(item, { ...bounds, now }));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      rejected.push({ index, reason: rejectReason(err), issues: [...err.issues] });
    }
  });
  return { accepted, rejected, batch };
}

/** The `reason` of a refused position. */
export function rejectReason(err: ValidationError): RejectedItem['reason'] {
  return err instanceof EventTimeError ? err.reason : 'invalid';
}
