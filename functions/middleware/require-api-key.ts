/**
 * The authentication gate: every request needs a valid API key except those `isOpen` lets
 * through (the route table's `open` routes, functions/routes.ts), so a route added later is
 * closed until someone decides otherwise. The gate also applies the key's rate limit, and leaves
 * the principal on the context for the handlers' authorization checks (`principal(c)`, `requireScope`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiKeyAuthenticator } from '../auth/api-key-authenticator';
import type { ApiKeyScope, Principal } from '../auth/api-key-record';
import { hasScope } from '../auth/api-key-record';
import { clientAddress, type FailedAuthLimiter } from '../auth/failed-auth-limiter';
import type { KeyRateLimiter } from '../auth/key-rate-limiter';
import { ForbiddenError, UnauthorizedError } from '../http-errors';

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
  }
}

export interface RequireApiKeyOptions {
  authenticator: ApiKeyAuthenticator;
  rateLimiter: KeyRateLimiter;
  /** Requests that need no key (CORS preflights always pass). Default none: the gate is closed. */
  isOpen?: (method: string, path: string) => boolean;
  /** Failed authentications per client address, checked before any key read from etcd. Default none. */
  failedAuth?: FailedAuthLimiter;
}

export function requireApiKey({
  authenticator,
  rateLimiter,
  isOpen = () => false,
  failedAuth,
}: RequireApiKeyOptions): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS' || isOpen(c.req.method, c.req.path)) return next();
    const address = clientAddress(c);
    const caller = await authenticator
      .authenticate(c.req.header('authorization'), failedAuth && (() => failedAuth.check(address)))
      .catch(async (error: unknown) => {
        if (error instanceof UnauthorizedError) await failedAuth?.failed(address);
        throw error;
      });
    await rateLimiter.consume(caller);
    c.set('principal', caller);
    return next();
  };
}

/** The verified caller; only on routes behind requireApiKey. */
export function principal(c: Context): Principal {
  const caller = c.get('principal');
  if (!caller) throw new Error(`route ${c.req.path} reads the principal but is not behind requireApiKey`);
  return caller;
}

/** Lets the request through only when its key has one of `scopes` (403 otherwise). */
export function requireScope(...scopes: ApiKeyScope[]): MiddlewareHandler {
  return async (c, next) => {
    const caller = principal(c);
    if (!scopes.some((s) => hasScope(caller, s))) {
      throw new ForbiddenError(`this API key lacks the ${scopes.join(' or ')} scope for ${c.req.path}`);
    }
    return next();
  };
}
