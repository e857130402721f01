import { terminalText } from '../core/safeText';

/**
 * The streams a CLI command writes to, passed in rather than taken from `process` so that every command can be run
 * and checked in-process by tests. Commands return their exit code instead of calling process.exit.
 *
 * Contract for command modules (summary here; probe and grad in their own files):
 *   export async function runXCommand(argv: string[], io: CliIo): Promise<number>
 * where argv is everything after the command name. A command throws UserInputError (exit 2, one line) for bad input;
 * anything else it throws is an internal error (exit 1). main.ts does the mapping, so commands need not catch.
 */
export interface CliIo {
  /** Writes text to standard output as is; the caller adds newlines. */
  stdout(text: string): void;
  /** Writes text to standard error as is. */
  stderr(text: string): void;
  /** The folder relative paths are resolved against. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal; used only for cosmetic choices such as progress lines. */
  isTty?: boolean;
  /** Aborted on Ctrl+C, so that long commands (probes) can stop cleanly. */
  signal?: AbortSignal;
}

/** The real process streams. Write errors such as EPIPE (`layerscope summary x | head`) end the output quietly. */
export function processIo(): CliIo {
  let closed = false;
  const onError = (): void => {
    closed = true;
  };
  process.stdout.on('error', onError);
  // The first Ctrl+C asks the running command to stop; a second one ends the process at once. The handler is only
  // installed when a command asks for the signal: synchronous commands such as summary keep Ctrl+C's default.
  let controller: AbortController | undefined;
  return {
    get signal(): AbortSignal {
      if (!controller) {
        const c = new AbortController();
        controller = c;
        process.once('SIGINT', () => {
          c.abort();
          process.once('SIGINT', () => process.exit(130));
        });
        // A kill (timeout, CI) ends the process through process.exit, so that its exit handlers remove temporary folders.
        process.once('SIGTERM', () => {
          c.abort();
          process.exit(143);
        });
      }
      return controller.signal;
    },
    // Names and paths come from files that may be hostile: no control or bidi character reaches the terminal raw.
    stdout: (text) => {
      if (!closed) process.stdout.write(terminalText(text));
    },
    stderr: (text) => {
      process.stderr.write(terminalText(text));
    },
    cwd: process.cwd(),
    env: process.env,
    isTty: Boolean(process.stdout.isTTY),
  };
}

/** An in-memory CliIo for tests: everything written is collected in `out` and `err`. */
export function memoryIo(cwd = process.cwd(), env: Record<string, string | undefined> = {}): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    cwd,
    env,
    isTty: false,
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}
