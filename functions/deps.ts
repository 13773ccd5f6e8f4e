/**
 * What every function handler may use. Handlers get these injected by the host (functions/app.ts)
 * and hold no payment state of their own: any host can answer any request.
 */
import type { Clock } from '../coordination/clock';
import type { PaymentLedger } from '../ledger/ledger';
import type { ClusterStatusSource } from './cluster-status';
import type { Metrics } from './metrics';

export interface FunctionDeps {
  ledger: PaymentLedger;
  clock: Clock;
  /** This host's id, recorded on the payments it commits. */
  hostId: string;
  /** Membership and leadership (absent in single-process tests): serves /cluster and gates /ready. */
  cluster?: ClusterStatusSource;
  /** Where handlers count what they do (in-flight commits). Default: not counted. */
  metrics?: Metrics;
}
