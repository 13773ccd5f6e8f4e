/**
 * The authentication gate: every route needs a valid API key except the few named in
 * OPEN_ROUTES, so a route added later is closed until someone decides otherwise. The gate also
 * applies the key's rate limit, and leaves the principal on the context for the handlers'
 * authorization checks (`principal(c)`, `requireScope`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../../ledger/errors';
import type { ApiKeyAuthenticator } from '../auth/api-key-authenticator';
import type { ApiKeyScope, Principal } from '../auth/api-key-record';
import { hasScope } from '../auth/api-key-record';
import type { KeyRateLimiter } from '../auth/key-rate-limiter';

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
  }
}

/**
 * Routes anyone may call, with why:
 *  - /health, /ready: probes of load balancers and orchestrators, which hold no keys;
 *  - /openapi.json and the dashboard's page and assets: static, no data (the page asks for a key);
 *  - GET /time: a clock reading, polled by peer hosts for Cristian's algorithm and by /cluster.
 */
const OPEN_ROUTES: { method: string; path: RegExp }[] = [
  { method: 'GET', path: /^\/(health|ready|openapi\.json|time)$/ },
  { method: 'GET', path: /^\/dashboard(\/|\/assets\/[^/]+)?$/ },
];

export const isOpenRoute = (method: string, path: string): boolean =>
  OPEN_ROUTES.some(
    (r) => (r.method === method || (method === 'HEAD' && r.method === 'GET')) && r.path.test(path),
  );

export interface RequireApiKeyOptions {
  authenticator: ApiKeyAuthenticator;
  rateLimiter: KeyRateLimiter;
}

export function requireApiKey({ authenticator, rateLimiter }: RequireApiKeyOptions): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS' || isOpenRoute(c.req.method, c.req.path)) return next();
    const caller = await authenticator.authenticate(c.req.header('authorization'));
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
