import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

/**
 * JSON bodies, parsed securely: a `__proto__` key or a `constructor.prototype` pair (prototype pollution)
 * is refused with a message naming it, not as "invalid JSON".
 */
export function parseJsonBody(_req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void): void {
  if (body.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY());
  let refused: string | undefined;
  const mayPollute = body.includes('__proto__') || body.includes('constructor') || body.includes('\\u');
  let value: unknown;
  try {
    value = mayPollute
      ? JSON.parse(body, (key, v) => {
          if (key === '__proto__') refused ??= '__proto__';
          else if (key === 'constructor' && v !== null && typeof v === 'object' && Object.hasOwn(v, 'prototype')) refused ??= 'constructor.prototype';
          return v;
        })
      : JSON.parse(body);
  } catch (err) {
    return done(new ApiError(400, 'InvalidJson', `body is not valid JSON: ${(err as Error).message}`));
  }
  if (refused)
    return done(new ApiError(400, 'ForbiddenProperty', `body contains a "${refused}" key, which is refused (it could alter object prototypes); remove it`));
  done(null, value);
}

/**
 * After a 413 the rest of an oversize body is read and thrown away (up to `maxBytes`, for at most
 * `maxMs`) before the answer goes out, so a client still sending sees the 413 instead of a reset.
 */
export function discardRestOfBody(raw: IncomingMessage, maxBytes: number, maxMs: number): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', finish).off('close', finish).off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish();
    };
    const timer = setTimeout(finish, maxMs);
    raw.on('data', onData).once('end', finish).once('close', finish).once('error', finish);
    raw.resume();
  });
}
