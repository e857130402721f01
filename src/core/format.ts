import type { Dim } from './ir/types';

/**
 * How numbers and shapes read, the same in the CLI, the exports, the inspector and the shape warnings: one module,
 * because the CLI once printed MB and the webview MiB for the same bytes, and formatShape existed four times.
 */

/** One dimension: a number, a symbol such as N, or ? when unknown. */
export function formatDim(d: Dim | undefined): string {
  return d === null || d === undefined ? '?' : String(d);
}

/** [1, 64, 112, 112] in torchinfo's style; an unknown shape is ?. */
export function formatShape(shape: readonly Dim[] | null | undefined): string {
  if (!shape) return '?';
  return `[${shape.map(formatDim).join(', ')}]`;
}

/** Bytes in decimal units (kB, MB, GB: 10^3 steps, as torchinfo's "MB" and file managers count), two decimals; `?` when unknown. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '?';
  return withPrefix(bytes, 'B') ?? `${Math.round(bytes)} B`;
}

/** Decimal unit prefixes, largest first: bytes and counts scale by the same steps. */
const PREFIXES: readonly [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** `n` with the largest prefix it reaches and two decimals (`1.81 G`, `12.29 kB`), or undefined below 1,000. */
function withPrefix(n: number, unit: string): string | undefined {
  for (const [scale, prefix] of PREFIXES) if (Math.abs(n) >= scale) return `${(n / scale).toFixed(2)} ${prefix}${unit}`;
  return undefined;
}

/**
 * A count with its digits grouped as torchinfo prints them (11,689,512), or `?` when it is not known exactly. Never a
 * stand-in 0: a Python summary whose model could not be counted has null totals.
 */
export function formatCount(n: number | null): string {
  if (n === null) return '?';
  if (!Number.isInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${digits}` : digits;
}

/** A count with a unit prefix, such as 1.81 G, as torchinfo prints totals; `?` when unknown. */
export function formatScaled(n: number | null): string {
  if (n === null) return '?';
  return withPrefix(n, '') ?? String(n);
}

/**
 * Bytes in binary units (KiB, MiB, GiB), one decimal: the sizes of limits and budgets, which are set in MiB
 * (`--memory-budget`, `layerscope.probe.inputMemoryBudgetMB`) and name file caps as powers of two.
 */
export function formatBinaryBytes(n: number): string {
  const MIB = 1024 * 1024;
  if (n >= 1024 * MIB) return `${(n / (1024 * MIB)).toFixed(1)} GiB`;
  if (n >= MIB) return `${(n / MIB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
