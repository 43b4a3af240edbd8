/**
 * Cron schedules of deployments: the next tick after a time, through croner (a well-kept,
 * dependency-free cron library). 5 fields (minute precision) and 6 (seconds first) are croner's
 * own; 7 fields (ZLayer's: seconds first, years last) keep croner's 6 and skip ticks outside the
 * years named (`*`, a year, a list, a range).
 */
import { Cron } from 'croner';
import { InvalidArgumentError } from '@tartarus/core';

/** Whether `year` is one of the years a 7th field names. */
function yearMatches(field: string, year: number): boolean {
  if (field === '*' || field === '?') return true;
  return field.split(',').some((part) => {
    const [from, to] = part.split('-').map(Number);
    return to === undefined ? year === from : year >= (from ?? 0) && year <= to;
  });
}

/** The first tick of `schedule` strictly after `afterMs` (epoch ms), or null when there is none. */
export function nextTick(schedule: string, afterMs: number): number | null {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6 && fields.length !== 7)
    throw new InvalidArgumentError(`schedule "${schedule}" has ${fields.length} fields: write 5 (min hour day month weekday), 6 (sec first) or 7 (sec first, year last)`);
  const years = fields.length === 7 ? (fields[6] ?? '*') : '*';
  let cron: Cron;
  try {
    cron = new Cron(fields.slice(0, 6).join(' '), { paused: true, timezone: 'UTC' });
  } catch (err) {
    throw new InvalidArgumentError(`schedule "${schedule}": ${(err as Error).message}`);
  }
  let at = new Date(afterMs);
  for (let i = 0; i < 1000; i++) {
    const next = cron.nextRun(at);
    if (next === null) return null;
    if (yearMatches(years, next.getUTCFullYear())) return next.getTime();
    at = next;
  }
  return null;
}
