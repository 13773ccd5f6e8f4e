/**
 * k6 scenario "read-heavy" (parameters in loadtest/scenarios.ts, shared with `npm run load -- --scenario read-heavy`).
 * Run: k6 run loadtest/k6/read-heavy.ts   (TARGETS, SCALE, RUN_ID: see loadtest/k6/common.ts)
 */
import { SCENARIOS } from '../scenarios.ts';
import { iteration, optionsFor } from './common.ts';

const scenario = SCENARIOS['read-heavy'];
export const options = optionsFor(scenario);
export default function (): void {
  iteration(scenario);
}
