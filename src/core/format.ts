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

/**
 * The one rule for a number shown in short form, in every view (the CLI's tables and status lines, the inspector's
 * header and bar charts, the lenses' MACs, byte sizes): three significant digits with a decimal (SI) prefix and a space
 * before it, so `11.7 M`, `1.81 G`, `9.47 k`, `46.7 MB`. That is how the model zoos and papers that users compare with
 * write sizes (torchvision's docs: 11.7M parameters, 1.81 GFLOPS; PyTorch Lightning's summary: 11.7 M), and it keeps
 * the same precision at every magnitude, where a fixed two decimals gave four digits for 11.69 M and two for 1.8 k.
 * The exact value is always beside it (formatCount in tables, tooltips and hovers; raw numbers in the JSON), so the
 * short form never stands alone for a count: the CLI prints `1,814,083,944 (1.81 G)`, as torchinfo prints exact counts
 * in its tables. The CLI (`11.69 M`), the webview (`11.7 M`) and the lenses (`1.76 MMACs`, `KMACs`) once had a rule each.
 */
const SIGNIFICANT = 3;

/** Decimal unit prefixes, largest first: bytes and counts scale by the same steps. */
const PREFIXES: readonly [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** `x` to SIGNIFICANT digits without trailing zeros (`1.8`, not `1.80`), in plain notation for 1e-3 <= |x| < 1e21. */
function significant(x: number, digits = SIGNIFICANT): string {
  return String(Number(x.toPrecision(digits)));
}

/**
 * `n` in short form with `unit` after the prefix (`1.81 GMACs`, `46.7 MB`, `11.7 M`); below 1,000 the number itself
 * (`999`, `512 B`). A value that rounds up to the next step takes that step's prefix (999,999 is `1 M`, not `1000 k`).
 * `?` when unknown.
 */
export function formatScaled(n: number | null, unit = ''): string {
  if (n === null) return '?';
  const tail = unit ? ` ${unit}` : '';
  if (!Number.isFinite(n)) return `${n}${tail}`;
  const abs = Math.abs(n);
  for (let i = 0; i < PREFIXES.length; i++) {
    if (abs < PREFIXES[i]![0]) continue;
    const step = i > 0 && Math.abs(Number((n / PREFIXES[i]![0]).toPrecision(SIGNIFICANT))) >= 1000 ? i - 1 : i;
    const [scale, prefix] = PREFIXES[step]!;
    return `${significant(n / scale)} ${prefix}${unit}`;
  }
  return `${Number.isInteger(n) ? String(n) : significant(n)}${tail}`;
}

/** Bytes in decimal units (kB, MB, GB: 10^3 steps, as torchinfo's "MB" and file managers count), by formatScaled's rule. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '?';
  return formatScaled(Math.round(bytes), 'B');
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

/**
 * A measured value (a loss, a norm, an activation statistic): `digits` significant digits in plain notation between
 * 1e-3 and 1e4, scientific notation outside (`0.0123`, `42.1`, `1.23e-5`, `3.4e+6`), trailing zeros dropped. The
 * views pass fewer digits for axis ticks and more for the CLI's columns; the switch to scientific notation is this one.
 */
export function formatValue(x: number, digits = SIGNIFICANT): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return significant(x, digits);
  const [mantissa, exponent] = x.toExponential(digits - 1).split('e');
  return `${Number(mantissa)}e${exponent}`;
}

/** A fraction as a percentage with one decimal: 0.4567 is `45.7%`. */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A duration given in milliseconds, by formatScaled's three significant digits: `0.42 ms`, `12.3 ms`, `1.23 s`, `144 s`. */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${significant(ms / 1000)} s` : `${significant(ms)} ms`;
}
