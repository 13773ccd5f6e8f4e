/**
 * Carries hybrid logical clock timestamps between hosts and clients in the `X-HLC` header: the
 * HLC receive rule on the way in, a fresh timestamp on the way out (Kulkarni et al. 2014).
 */
import type { MiddlewareHandler } from 'hono';
import { HLC_HEADER } from '../../coordination/clock/hlc';
import type { ClockDeps } from '../deps';

/** HLC receive rule on every request that carries `X-HLC`; every response carries a fresh timestamp. */
export function hlcHeaders({ hlc }: ClockDeps): MiddlewareHandler {
  return async (c, next) => {
    const remote = c.req.header(HLC_HEADER);
    if (remote !== undefined) hlc.receive(remote);
    await next();
    c.res.headers.set(HLC_HEADER, hlc.tick());
  };
}
