// Exact decimal strings, as the API sends them ("1850.25"): parsed to integer units with BigInt, formatted back.
// Money never becomes a JavaScript number here (charts turn prices into pixels, nothing else does).

export const DECIMAL_RE = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Decimal places of a step written as a decimal ("0.01" -> 2, "5" -> 0). */
export function decimalsOf(step: string): number {
  const dot = step.indexOf('.');
  return dot < 0 ? 0 : step.length - dot - 1;
}

/** `text` in units of 10^-decimals, exactly; null when it is not a plain decimal or has more decimals than that. */
export function toUnits(text: string, decimals: number): bigint | null {
  if (!DECIMAL_RE.test(text)) return null;
  const [whole, fraction = ''] = text.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > decimals) return null;
  return BigInt(whole + trimmed.padEnd(decimals, '0'));
}

/** Units of 10^-decimals as a plain decimal string without trailing zeros ("1850.25"). */
export function fromUnits(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = decimals === 0 ? '' : digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** Units of the largest scale either has, for exact comparison and sums. */
export function scaleOf(...texts: string[]): number {
  return Math.max(0, ...texts.map((t) => decimalsOf(t)));
}

export function compare(a: string, b: string): number {
  const s = scaleOf(a, b);
  const x = toUnits(a, s) ?? 0n;
  const y = toUnits(b, s) ?? 0n;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function add(a: string, b: string): string {
  const s = scaleOf(a, b);
  return fromUnits((toUnits(a, s) ?? 0n) + (toUnits(b, s) ?? 0n), s);
}

export function isZero(text: string): boolean {
  return /^0(\.0*)?$/.test(text);
}

/**
 * For reading: thousands grouped, at least `minDecimals` decimals (padded with zeros), never fewer than the value
 * has (nothing is rounded away). "-12.5" also works (a price change).
 */
export function fmt(text: string | null | undefined, minDecimals = 0): string {
  if (text === null || text === undefined || text === '') return '—';
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = fraction.padEnd(minDecimals, '0');
  return `${negative ? '-' : ''}${grouped}${frac === '' ? '' : `.${frac}`}`;
}

/** A percentage with two decimals, rounded toward zero: change / open x 100. Exact inputs, display output. */
export function percent(change: string, open: string): string {
  const s = scaleOf(change, open);
  const c = toUnits(change.replace(/^-/, ''), s) ?? 0n;
  const o = toUnits(open, s) ?? 0n;
  if (o === 0n) return '—';
  const bp = (c * 10000n) / o;
  const sign = change.startsWith('-') && bp !== 0n ? '-' : '+';
  return `${sign}${fromUnits(bp, 2)
    .replace(/^(\d+)$/, '$1.00')
    .replace(/\.(\d)$/, '.$10')}%`;
}
