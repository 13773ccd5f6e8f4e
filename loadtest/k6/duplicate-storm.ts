/**
 * k6 scenario "duplicate-storm" (parameters in loadtest/scenarios.ts, shared with `npm run load -- --scenario duplicate-storm`).
 * Run: k6 run loadtest/k6/duplicate-storm.ts   (TARGETS, SCALE, RUN_ID: see loadtest/k6/common.ts)
 */
import { SCENARIOS } from '../scenarios.ts';
import { iteration, optionsFor } from './common.ts';

const scenario = SCENARIOS['duplicate-storm'];
export const options = optionsFor(scenario);
export default function (): void {
  iteration(scenario);
}
