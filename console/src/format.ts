/** Times as the console shows them: UTC on the page, the reader's local time on hover. */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2026-12-05 14:03:21 UTC` (seconds, or milliseconds when `millis`). */
export function utc(ms: number, millis = false): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${millis ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base} UTC`;
}

/** The same instant in the reader's time zone, for a `title`. */
export function local(ms: number): string {
  return `${new Date(ms).toLocaleString(undefined, { timeZoneName: 'short' })} (your time)`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `3 h 12 min`, `45 s`, `2 d 4 h`: a duration for people. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `YYYY-MM-DDTHH:MM` in UTC, for a `datetime-local` input that the console reads as UTC. */
export function inputValue(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The inverse of {@link inputValue}; undefined when empty or malformed. */
export function fromInputValue(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}
