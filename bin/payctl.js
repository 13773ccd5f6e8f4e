#!/usr/bin/env node
// payctl's entry point (package.json "bin"): loads tsx so the TypeScript CLI runs without a build.
import { register } from 'tsx/esm/api';

register();
await import('../cli/payctl.ts');
