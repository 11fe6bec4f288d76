// Entry for running the CLI straight from source (tests: `node --import tsx src/cli/run.ts ...`).
import { main } from './start.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
