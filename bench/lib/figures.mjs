// Figures: what a suite returns. One shape for the JSON and the Markdown report.
//   { id, label, value, unit, target?, met?, ratios?, note?, detail? }
//   { id, label, status: 'not-available' | 'not-measured' | 'error', reason }
// A target is { op: '<=' | '>=' | '<', value, unit?, text } compared against `value`, or against a ratio
// when `on` names one of the figure's ratios (e.g. ratio vs kubectl).
import { round } from './stats.mjs';

export function figure(id, label, value, unit, extra = {}) {
  const f = { id, label, value: round(value), unit, ...extra };
  if (f.ratios) for (const k of Object.keys(f.ratios)) f.ratios[k] = round(f.ratios[k]);
  if (f.target) {
    const measured = f.target.on ? f.ratios?.[f.target.on] : f.value;
    f.met = compare(measured, f.target.op, f.target.value);
    if (measured === undefined || Number.isNaN(measured)) f.met = undefined;
  }
  return f;
}

export function notAvailable(id, label, reason) {
  return { id, label, status: 'not-available', reason: String(reason) };
}

export function notMeasured(id, label, reason) {
  return { id, label, status: 'not-measured', reason: String(reason) };
}

function compare(a, op, b) {
  if (typeof a !== 'number' || Number.isNaN(a)) return undefined;
  switch (op) {
    case '<=':
      return a <= b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '>':
      return a > b;
    default:
      return undefined;
  }
}

/** Ratio a/b, or undefined when either is missing. */
export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !b) return undefined;
  return a / b;
}

/** Short reason text from an error (first line, no stack). */
export function reasonOf(e) {
  const m = e?.message ?? String(e);
  return m.split('\n')[0].slice(0, 300);
}
