
/** Display formatting only: the numbers themselves come from the core's analysis. */

/** Groups digits the way torchinfo does: 11,689,512. */
export function formatInt(n: number | null): string {
  if (n === null) return '?';
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  const digits = Math.round(Math.abs(n)).toString();
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A short human form: 1.81 G, 11.7 M, 9.47 k. */
export function formatCompact(n: number | null): string {
  if (n === null) return '?';
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

function trim(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

export { formatBytes, formatDim, formatShape } from '../src/core/format';
