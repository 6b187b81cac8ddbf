// What every benchmark returns, and the median they quote.

/** One line of `npm run bench`: {"name","value","unit"}. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
