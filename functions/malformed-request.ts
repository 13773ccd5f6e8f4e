/**
 * Answers requests that Node's HTTP parser rejects before Hono ever sees them (garbage request
 * lines, broken chunked encoding, oversized headers) with the same JSON error shape as every
 * other 4xx, instead of Node's default bodiless `400 Bad Request`. Found by the bad-input sweep.
 */
import type { Socket } from 'node:net';
import { ERROR_STATUS_BY_CODE, type ErrorCode } from '../ledger/errors';
import { errorBody } from './error-handler';

const REASON: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' };

/** For `server.on('clientError', ...)`: writes a JSON 400 (or 431) and closes the connection. */
export function answerMalformedRequest(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'invalid_request';
  const status = ERROR_STATUS_BY_CODE[code];
  const body = JSON.stringify(errorBody(code, `malformed HTTP request (${error.code ?? 'parse error'})`));
  socket.end(
    `HTTP/1.1 ${status} ${REASON[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
