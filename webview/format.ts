import type { Dim } from '../src/core/ir/types';

/** Display formatting only: the numbers themselves come from the core's analysis. */

/** Groups digits the way torchinfo does: 11,689,512. */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  const digits = Math.round(Math.abs(n)).toString();
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A short human form: 1.81 G, 11.7 M, 9.47 k. */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, unit] of units) {
    if (abs >= scale) return `${trim((n / scale).toPrecision(3))} ${unit}`;
  }
  return String(Math.round(n));
}

/** Bytes in binary units, as torchinfo prints them (MB there means MiB-ish; we say MiB to be exact). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(value)} B` : `${trim(value.toFixed(2))} ${units[i]}`;
}

function trim(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** One dimension: a number, a symbol such as N, or ? when unknown. */
export function formatDim(d: Dim | undefined): string {
  return d === null || d === undefined ? '?' : String(d);
}

/** [1, 64, 112, 112] in torchinfo's style; null shapes are shown as ?. */
export function formatShape(shape: readonly Dim[] | null | undefined): string {
  if (!shape) return '?';
  return `[${shape.map(formatDim).join(', ')}]`;
}
