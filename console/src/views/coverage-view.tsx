/**
 * Coverage of one instance: what the archive holds completely, what it will sweep again (inside the
 * lookback) and what is missing, as a calendar of days with the hours of a day on demand. A gap is
 * the first and loudest thing on the page.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  type CoverageView as CoverageAnswer,
  type CoverageHours,
  fetchCoverage,
  fetchCoverageHours,
} from '../api';
import { count, duration, local, utc } from '../format';
import type { ConsoleState } from '../state';
import { Problem } from './problem';

interface CoverageViewProps {
  state: ConsoleState & { source: string; instance: string };
  navigate(patch: Partial<ConsoleState>): void;
}

type CoverageDay = CoverageAnswer['days'][number];
type CoverageHour = CoverageHours['hours'][number];
type WindowCounts = Omit<CoverageDay, 'day'>;

type CellStatus = 'covered' | 'pending' | 'gap' | 'none';

const STATUS_TEXT: Record<CellStatus, string> = {
  covered: 'covered',
  pending: 're-sweep pending',
  gap: 'gap',
  none: 'not in range',
};

/** A cell's colour: any missing window makes it a gap; any window still inside the lookback, pending. */
function statusOf(w: WindowCounts): CellStatus {
  if (w.missing > 0) return 'gap';
  if (w.provisional > 0) return 'pending';
  if (w.final > 0) return 'covered';
  return 'none';
}

function cellTitle(label: string, w: WindowCounts): string {
  return `${label}: ${STATUS_TEXT[statusOf(w)]}; ${count(w.events)} events; windows ${w.final} covered, ${w.provisional} pending, ${w.missing} missing`;
}

export function CoverageView({ state, navigate }: CoverageViewProps) {
  const [data, setData] = useState<CoverageAnswer>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const controller = new AbortController();
    setData(undefined);
    setError(undefined);
    fetchCoverage(state.source, state.instance, controller.signal).then(setData, (err: unknown) => {
      if (!controller.signal.aborted) setError(err);
    });
    return () => controller.abort();
  }, [state.source, state.instance]);
  if (error) return <Problem error={error} what="the coverage" />;
  if (!data)
    return (
      <p class="loading" aria-busy="true">
        Reading the ledger…
      </p>
    );
  const gaps = data.runs.filter((r) => r.status === 'missing');
  return (
    <section aria-labelledby="coverage-title">
      <h1 id="coverage-title">Coverage</h1>
      {gaps.length > 0 ? (
        <div class="gap-banner" role="alert" data-testid="gap-banner">
          <strong>
            {gaps.length === 1 ? '1 gap' : `${count(gaps.length)} gaps`}:{' '}
            {data.windows.missing === 1 ? '1 window' : `${count(data.windows.missing)} windows`} of{' '}
            {data.sliceMinutes} minutes {data.windows.missing === 1 ? 'is' : 'are'} not archived.
          </strong>
          <ul>
            {gaps.slice(0, 20).map((g) => (
              <li key={g.start} data-testid="gap">
                <time title={local(Date.parse(g.start))}>{utc(Date.parse(g.start))}</time> to{' '}
                <time title={local(Date.parse(g.end))}>{utc(Date.parse(g.end))}</time> (
                {g.windows === 1 ? '1 window' : `${g.windows} windows`})
              </li>
            ))}
          </ul>
          {gaps.length > 20 && <p>… and {count(gaps.length - 20)} more.</p>}
        </div>
      ) : (
        <p class="ok-banner" data-testid="no-gaps">
          No gaps: every window from {utc(Date.parse(data.from))} to {utc(Date.parse(data.to))} is archived
          {data.windows.provisional > 0
            ? ` (${count(data.windows.provisional)} recent windows will be swept again)`
            : ''}
          .
        </p>
      )}
      <dl class="facts coverage-facts">
        <dt>Events archived</dt>
        <dd>{count(data.events)}</dd>
        <dt>First archived event</dt>
        <dd>
          {data.firstEventTime ? (
            <time title={local(Date.parse(data.firstEventTime))}>{utc(Date.parse(data.firstEventTime))}</time>
          ) : (
            'none'
          )}
        </dd>
        <dt>Last archived event</dt>
        <dd>
          {data.lastEventTime ? (
            <time title={local(Date.parse(data.lastEventTime))}>{utc(Date.parse(data.lastEventTime))}</time>
          ) : (
            'none'
          )}
        </dd>
        <dt>Ingestion lag</dt>
        <dd>{data.lagSeconds === null ? 'nothing covered yet' : duration(data.lagSeconds)}</dd>
        <dt>Last run</dt>
        <dd>
          {data.lastRun ? (
            <time title={local(Date.parse(data.lastRun.at))}>{utc(Date.parse(data.lastRun.at))}</time>
          ) : (
            'never'
          )}
        </dd>
        <dt>Windows</dt>
        <dd>
          {count(data.windows.final)} covered, {count(data.windows.provisional)} re-sweep pending,{' '}
          {count(data.windows.missing)} gaps ({data.sliceMinutes}-minute windows, {data.lookbackMinutes}
          -minute lookback)
        </dd>
      </dl>
      <Legend />
      <Calendar
        days={data.days}
        open={state.day}
        onOpen={(day) => navigate({ day: day === state.day ? undefined : day })}
      />
      {state.day && (
        <DayHours key={state.day} source={state.source} instance={state.instance} day={state.day} />
      )}
    </section>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="Colours">
      {(['covered', 'pending', 'gap', 'none'] as const).map((s) => (
        <li key={s}>
          <span class={`cell-swatch ${s}`} aria-hidden="true" /> {STATUS_TEXT[s]}
        </li>
      ))}
    </ul>
  );
}

/** Days grouped by month, a week to a row, Monday first. */
function Calendar({
  days,
  open,
  onOpen,
}: {
  days: CoverageDay[];
  open: string | undefined;
  onOpen(day: string): void;
}) {
  const months = new Map<string, CoverageDay[]>();
  for (const d of days) {
    const month = d.day.slice(0, 7);
    const list = months.get(month) ?? [];
    list.push(d);
    months.set(month, list);
  }
  return (
    <div class="calendar" data-testid="calendar">
      {[...months].map(([month, list]) => {
        const first = new Date(`${list[0]!.day}T00:00:00Z`);
        const lead = (first.getUTCDay() + 6) % 7;
        return (
          <div class="month" key={month}>
            <h3>
              {new Date(`${month}-01T00:00:00Z`).toLocaleString('en-US', {
                month: 'long',
                year: 'numeric',
                timeZone: 'UTC',
              })}
            </h3>
            <div class="weekdays" aria-hidden="true">
              {['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'].map((w) => (
                <span key={w}>{w}</span>
              ))}
            </div>
            <ol class="days">
              {Array.from({ length: lead }, (_, i) => (
                <li key={`pad${i}`} class="pad" aria-hidden="true" />
              ))}
              {list.map((d) => {
                const status = statusOf(d);
                return (
                  <li key={d.day}>
                    <button
                      type="button"
                      class={`cell ${status}`}
                      data-day={d.day}
                      data-status={status}
                      aria-pressed={open === d.day}
                      title={cellTitle(d.day, d)}
                      onClick={() => onOpen(d.day)}
                    >
                      {Number(d.day.slice(8))}
                      <span class="visually-hidden">{`: ${cellTitle(d.day, d)}`}</span>
                    </button>
                  </li>
                );
              })}
            </ol>
          </div>
        );
      })}
    </div>
  );
}

function DayHours({ source, instance, day }: { source: string; instance: string; day: string }) {
  const [hours, setHours] = useState<CoverageHour[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const controller = new AbortController();
    fetchCoverageHours(source, instance, day, controller.signal).then(
      (answer) => setHours(answer.hours),
      (err: unknown) => {
        if (!controller.signal.aborted) setError(err);
      },
    );
    return () => controller.abort();
  }, []);
  return (
    <section class="hours" aria-labelledby="hours-title">
      <h2 id="hours-title">Hours of {day} (UTC)</h2>
      {error ? (
        <Problem error={error} what="the hours" />
      ) : !hours ? (
        <p class="loading" aria-busy="true">
          Reading the day…
        </p>
      ) : (
        <ol class="hour-grid" data-testid="hours">
          {hours.map((h) => {
            const status = statusOf(h);
            const label = cellTitle(`${h.start.slice(11, 16)} UTC`, h);
            return (
              <li
                key={h.start}
                class={`cell ${status}`}
                data-status={status}
                title={label}
                aria-label={label}
              >
                <span class="hour">{h.start.slice(11, 13)}</span>
                <span class="n">{count(h.events)}</span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
