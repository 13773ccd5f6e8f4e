/**
 * Answers requests that Node's HTTP parser rejects before Hono ever sees them (garbage request
 * lines, broken chunked encoding, oversized headers) with the same JSON error shape as every
 * other 4xx, instead of Node's default bodiless `400 Bad Request`. Found by the bad-input sweep.
 */
import type { Socket } from 'node:net';
import { ERROR_STATUS_BY_CODE, type ErrorCode } from '../ledger/errors';
import { errorBody } from './error-handler';

const REASON: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' };

/**
 * For `server.on('clientError', ...)`: writes a JSON 400 (or 431) and closes the connection.
 * When a response has already gone out on this connection (a 401 answered before the body was
 * read, whose unread bytes then fail to parse) it only closes: a second response would be read
 * by the client as part of the first. Node's own default handler makes the same check.
 */
export function answerMalformedRequest(error: Error & { code?: string }, socket: Socket): void {
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
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
