import { freemem } from 'node:os';
import { UserInputError } from '../core/errors';
import { formatBinaryBytes as formatBytes } from '../core/format';

/**
 * The memory budget for a probe's or gradient probe's inputs, checked before anything is allocated: a shape such as
 * 1x3x100000x100000 or --batch 300000 is refused in one line that names the size, instead of running the machine
 * out of memory. The inputs are copied once more into the worker process, and a network's activations are usually
 * several times its input, so the default is an eighth of the memory free when the probe starts.
 */

/** Where the budget is raised; the same words in the CLI and the editor. */
export const MEMORY_BUDGET_HINT = 'raise it with --memory-budget MB or the layerscope.probe.inputMemoryBudgetMB setting';

/**
 * Inputs travel to the worker process in one IPC message, and Node's advanced serialization cannot carry one of 2 GiB
 * or more (the worker dies with "Unable to deserialize cloned data"), so no budget lets inputs past this.
 */
export const MAX_INPUT_TRANSFER_BYTES = 2 * 1024 * 1024 * 1024 - 64 * 1024 * 1024;

/** An eighth of the memory free now, and never less than 256 MiB. */
export function defaultInputBudgetBytes(): number {
  return Math.max(256 * 1024 * 1024, Math.floor(freemem() / 8));
}

/** Counts the bytes the inputs will take against the budget, one input at a time, before each is allocated. */
export class InputBudget {
  private used = 0;
  constructor(readonly bytes: number = defaultInputBudgetBytes()) {}

  /** What is left, for a reader that caps how much of a file it reads. */
  get remaining(): number {
    return Math.max(0, this.bytes - this.used);
  }

  /** Charges `elements` of `bytesPerElement` for `what`; the product may be huge (1e300), so it is checked as a float. */
  charge(what: string, dims: readonly number[], bytesPerElement: number): void {
    let elements = 1;
    for (const d of dims) elements *= d;
    const bytes = elements * bytesPerElement;
    const shape = dims.join('×');
    const size = Number.isFinite(bytes) && bytes < 2 ** 70 ? formatBytes(bytes) : 'more memory than any machine has';
    if (!(this.used + bytes <= this.bytes)) {
      throw new UserInputError(`${what} of shape ${shape} needs ${size}, more than the ${formatBytes(this.bytes)} memory budget for inputs; ${MEMORY_BUDGET_HINT}`);
    }
    if (this.used + bytes > MAX_INPUT_TRANSFER_BYTES) {
      throw new UserInputError(`${what} of shape ${shape} needs ${size}; a probe's inputs must stay under ${formatBytes(MAX_INPUT_TRANSFER_BYTES)}, the most one message to its worker process can carry`);
    }
    this.used += bytes;
  }
}
