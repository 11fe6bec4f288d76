#!/usr/bin/env node
// Entry point: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm ci`);
// start.js loads only the command asked for.
import { main } from '../dist/cli/start.js';
main(process.argv).then((code) => { process.exitCode = code; });
