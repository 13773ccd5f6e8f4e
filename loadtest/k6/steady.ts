/**
 * k6 scenario "steady" (parameters in loadtest/scenarios.ts, shared with `npm run load -- --scenario steady`).
 * Run: k6 run loadtest/k6/steady.ts   (TARGETS, SCALE, RUN_ID: see loadtest/k6/common.ts)
 */
import { SCENARIOS } from '../scenarios.ts';
import { iteration, optionsFor } from './common.ts';

const scenario = SCENARIOS['steady'];
export const options = optionsFor(scenario);
export default function (): void {
  iteration(scenario);
}
