import { isUserInputError } from '../core/errors';
import { oneLine } from '../core/safeText';
import type { CliIo } from './io';
import { runSummaryCommand } from './summaryCommand';
import { version } from '../../package.json';

/**
 * Command dispatch and the exit-code contract: 0 ok, 1 internal error, 2 unusable input with one line on stderr and
 * never a stack trace (set LAYERSCOPE_DEBUG=1 to see one for internal errors).
 */

export type CommandRunner = (argv: string[], io: CliIo) => Promise<number>;

export const HELP = `Usage: layerscope <command> [options]

Commands:
  summary MODEL   Shapes, parameters, MACs, memory and receptive fields per layer (.onnx or .py)
  probe MODEL     Run the model and report activation statistics per layer
  grad MODEL      Gradient statistics per parameter and activation, with a numerical check

Options:
  -h, --help      Show help (also: layerscope <command> --help)
  -v, --version   Show the version

Exit codes: 0 ok, 1 internal error, 2 unusable input (one line on stderr).
`;

/**
 * The probe and grad commands are loaded when they run, so that `summary` does not pay for loading them. A failure to
 * load is a real error (exit 1 with its message), never "not available".
 */
async function loadRunner(command: 'probe' | 'grad'): Promise<CommandRunner> {
  return command === 'probe' ? (await import('./probeCommand')).runProbeCommand : (await import('./gradCommand')).runGradCommand;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined) {
      io.stderr('layerscope: no command; usage: layerscope summary|probe|grad MODEL [options] (see layerscope --help)\n');
      return 2;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      io.stdout(HELP);
      return 0;
    }
    if (command === '--version' || command === '-v') {
      io.stdout(`${version}\n`);
      return 0;
    }
    if (command === 'summary') return await runSummaryCommand(rest, io);
    if (command === 'probe' || command === 'grad') {
      const runner = await loadRunner(command);
      return await runner(rest, io);
    }
    io.stderr(`layerscope: unknown command '${oneLine(command)}' (commands: summary, probe, grad; see layerscope --help)\n`);
    return 2;
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: CliIo): number {
  if (isUserInputError(e) || (e instanceof Error && e.name === 'GraphStructureError')) {
    io.stderr(`layerscope: ${oneLine((e as Error).message)}\n`);
    return 2;
  }
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(`layerscope: internal error: ${oneLine(message)}\n`);
  if (io.env.LAYERSCOPE_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return 1;
}

