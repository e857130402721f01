import { runCli } from './cli';
import { processIo } from './io';

/**
 * The `layerscope` executable (bundled to dist/cli.js). Everything testable lives in cli.ts; this file only connects
 * it to the process. It sets process.exitCode instead of calling process.exit so that buffered output is flushed.
 */
void runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`layerscope: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
