import { UserInputError } from '../core/errors';
import type { Dim } from '../core/ir/types';

/**
 * Argument parsing shared by every `layerscope` command. It is deliberately small: options are declared as data,
 * both `--name value` and `--name=value` work, repeated options collect, and anything unknown is a one-line
 * UserInputError that names the option, never a guess.
 */

export interface OptionSpec {
  /** Options that take no value, such as `json` for `--json`. */
  flags?: readonly string[];
  /** Options that take one value; repeating them collects every value. */
  values?: readonly string[];
  /** Single-letter aliases, for example { h: 'help' }. */
  aliases?: Readonly<Record<string, string>>;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], spec: OptionSpec, command = 'layerscope'): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const flagNames = new Set(spec.flags ?? []);
  const valueNames = new Set(spec.values ?? []);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const alias = spec.aliases?.[arg.slice(1)];
      if (!alias) throw new UserInputError(`unknown option ${arg} for ${command} (see ${command} --help)`);
      name = alias;
    }
    if (flagNames.has(name)) {
      if (inline !== undefined) throw new UserInputError(`option --${name} takes no value`);
      flags.add(name);
    } else if (valueNames.has(name)) {
      let value = inline;
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UserInputError(`option --${name} needs a value`);
        value = argv[++i];
      }
      const list = values.get(name);
      if (list) list.push(value);
      else values.set(name, [value]);
    } else {
      throw new UserInputError(`unknown option --${name} for ${command} (see ${command} --help)`);
    }
  }
  return { positionals, flags, values };
}

/** The last value given for an option, or undefined. */
export function lastValue(args: ParsedArgs, name: string): string | undefined {
  const list = args.values.get(name);
  return list ? list[list.length - 1] : undefined;
}

export interface InputShapeArg {
  /** The graph input it fixes; undefined when the argument gave no name (allowed for single-input models). */
  name?: string;
  dims: Dim[];
}

/** The largest dim accepted: sizes must stay exact in JavaScript numbers. */
export const MAX_DIM = Number.MAX_SAFE_INTEGER;

/**
 * Parses `--input-shape` values: `NAME=1x3x224x224`, or just `1x3x224x224` for a model with one input. Dims are
 * separated by `x` or `,`; each is a non-negative integer below 2^53, a symbolic name such as `N`, or `?` for unknown.
 */
export function parseInputShape(text: string): InputShapeArg {
  const eq = text.lastIndexOf('=');
  const name = eq >= 0 ? text.slice(0, eq) : undefined;
  const spec = eq >= 0 ? text.slice(eq + 1) : text;
  if (name !== undefined && name.length === 0) throw new UserInputError(`--input-shape '${text}' has an empty input name`);
  if (spec.trim() === '') throw new UserInputError(`--input-shape '${text}' gives no dims (expected for example input=1x3x224x224)`);
  const parts = spec.split(/[x,×]/).map((p) => p.trim());
  const dims: Dim[] = parts.map((p) => parseDim(p, text));
  return name === undefined ? { dims } : { name, dims };
}

function parseDim(part: string, whole: string): Dim {
  if (part === '?') return null;
  if (/^-?\d+$/.test(part)) {
    const value = Number(part);
    if (value < 0) throw new UserInputError(`--input-shape '${whole}': dim ${part} is negative`);
    if (!Number.isSafeInteger(value)) throw new UserInputError(`--input-shape '${whole}': dim ${part} is not below 2^53`);
    return value;
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) return part;
  throw new UserInputError(`--input-shape '${whole}': '${part}' is not a dim (use integers, a name such as N, or ?)`);
}

/** Parses a positive integer option such as --max-nodes. */
export function parsePositiveInt(name: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) <= 0) {
    throw new UserInputError(`--${name} needs a positive integer, not '${text}'`);
  }
  return Number(text);
}
