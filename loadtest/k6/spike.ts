/**
 * k6 scenario "spike" (parameters in loadtest/scenarios.ts, shared with `npm run load -- --scenario spike`).
 * Run: k6 run loadtest/k6/spike.ts   (TARGETS, SCALE, RUN_ID: see loadtest/k6/common.ts)
 */
import { SCENARIOS } from '../scenarios.ts';
import { iteration, optionsFor } from './common.ts';

const scenario = SCENARIOS['spike'];
export const options = optionsFor(scenario);
export default function (): void {
  iteration(scenario);
}
