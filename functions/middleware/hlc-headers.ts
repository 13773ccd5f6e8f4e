/**
 * Carries hybrid logical clock timestamps between hosts and clients in the `X-HLC` header: the
 * HLC receive rule on the way in, a fresh timestamp on the way out (Kulkarni et al. 2014).
 */
import type { MiddlewareHandler } from 'hono';
import { HLC_HEADER } from '../../coordination/clock/hlc';
import type { ClockDeps } from '../deps';

/**
 * HLC receive rule on every request that carries `X-HLC` and a valid API key; every response
 * carries a fresh timestamp. Mounted after the key gate (functions/middleware/require-api-key.ts),
 * which leaves the verified principal on the context: a request without one (an open route such as
 * /health or a peer's GET /time, which send no key) cannot move this host's clock. The receive rule
 * itself bounds what an authenticated sender can do (coordination/clock/hlc.ts, maximum offset).
 */
export function hlcHeaders({ hlc }: ClockDeps): MiddlewareHandler {
  return async (c, next) => {
    const remote = c.req.header(HLC_HEADER);
    if (remote !== undefined && c.get('principal') !== undefined) hlc.receive(remote);
    await next();
    c.res.headers.set(HLC_HEADER, hlc.tick());
  };
}
