/**
 * Events: range and filters above, the histogram of the selection, then the table, paged through
 * the source's own list route with its nextToken, and the open event in full.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type EventSelection, fetchEventPage, fetchHistogram, type HistogramAnswer, PAGE_SIZE } from '../api';
import { columnsOf, type EventRow, eventRow } from '../events';
import { count, fromInputValue, inputValue, local, utc } from '../format';
import { type ConsoleState, RANGES, type RangeKey, rangeOf, SOURCE_VIEWS } from '../state';
import { EventDetail } from './event-detail';
import { Histogram } from './histogram';
import { Problem } from './problem';

interface EventsViewProps {
  state: ConsoleState & { source: string; instance: string };
  now: number;
  navigate(patch: Partial<ConsoleState>): void;
}

/** The selection of a state: its instance, resolved range and the source's filters only. */
function selectionOf(state: EventsViewProps['state'], now: number): EventSelection {
  const view = SOURCE_VIEWS[state.source];
  const filters: Record<string, string> = {};
  for (const f of view?.filters ?? []) {
    const value = state.filters[f.name];
    if (value) filters[f.name] = value;
  }
  return {
    source: state.source,
    instance: state.instance,
    ...rangeOf(state, now),
    filters,
    eventTypes: view?.eventTypes ? state.eventTypes : [],
  };
}

export function EventsView({ state, now, navigate }: EventsViewProps) {
  const selection = selectionOf(state, now);
  const key = JSON.stringify(selection);
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title" class="visually-hidden">
        Events
      </h1>
      <RangePicker state={state} now={now} navigate={navigate} />
      <FilterForm state={state} navigate={navigate} />
      <HistogramPanel key={`h${key}`} selection={selection} navigate={navigate} />
      <EventTable key={`t${key}`} selection={selection} state={state} navigate={navigate} />
    </section>
  );
}

function RangePicker({ state, now, navigate }: EventsViewProps) {
  const { start, end } = rangeOf(state, now);
  const [from, setFrom] = useState(inputValue(start));
  const [to, setTo] = useState(inputValue(end));
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    setFrom(inputValue(start));
    setTo(inputValue(end));
  }, [start, end]);
  const choose = (range: RangeKey): void =>
    navigate({ range, from: undefined, to: undefined, event: undefined });
  const applyCustom = (e: Event): void => {
    e.preventDefault();
    const f = fromInputValue(from);
    const t = fromInputValue(to);
    if (f === undefined || t === undefined) {
      setProblem('From and To must be dates and times (UTC).');
      return;
    }
    if (f >= t) {
      setProblem('From must be earlier than To.');
      return;
    }
    setProblem(undefined);
    navigate({ range: 'custom', from: f, to: t, event: undefined });
  };
  return (
    <div class="toolbar">
      <fieldset class="ranges">
        <legend>Time range</legend>
        {(Object.keys(RANGES) as (keyof typeof RANGES)[]).map((range) => (
          <button
            type="button"
            key={range}
            aria-pressed={state.range === range}
            onClick={() => choose(range)}
          >
            {RANGES[range].label}
          </button>
        ))}
      </fieldset>
      <form class="custom-range" onSubmit={applyCustom}>
        <UtcInput label="From (UTC)" name="from" value={from} onInput={setFrom} at={start} />
        <UtcInput label="To (UTC)" name="to" value={to} onInput={setTo} at={end} />
        <button type="submit" aria-pressed={state.range === 'custom'}>
          Apply range
        </button>
        {problem && (
          <span role="alert" class="inline-problem">
            {problem}
          </span>
        )}
      </form>
      <p class="range-shown">
        Showing <time title={local(start)}>{utc(start)}</time> to <time title={local(end)}>{utc(end)}</time>
      </p>
    </div>
  );
}

/** A date and time typed in UTC; hovering shows the instant in the reader's own time. */
function UtcInput(props: {
  label: string;
  name: string;
  value: string;
  at: number;
  onInput(value: string): void;
}) {
  return (
    <label>
      {props.label}
      <input
        type="datetime-local"
        name={props.name}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        title={local(props.at)}
      />
    </label>
  );
}

function FilterForm({ state, navigate }: Omit<EventsViewProps, 'now'>) {
  const view = SOURCE_VIEWS[state.source];
  const [draft, setDraft] = useState<Record<string, string>>(state.filters);
  const [types, setTypes] = useState<string[]>(state.eventTypes);
  useEffect(() => setDraft(state.filters), [JSON.stringify(state.filters)]);
  useEffect(() => setTypes(state.eventTypes), [state.eventTypes.join('\n')]);
  if (!view) return null;
  const apply = (e: Event): void => {
    e.preventDefault();
    const filters = Object.fromEntries(Object.entries(draft).filter(([, v]) => v.trim() !== ''));
    navigate({ filters, eventTypes: types, event: undefined });
  };
  const clear = (): void => navigate({ filters: {}, eventTypes: [], event: undefined });
  const active = Object.entries(state.filters).filter(([name]) => view.filters.some((f) => f.name === name));
  return (
    <form class="filters" onSubmit={apply} aria-label="Filters">
      {view.filters.map((f) => (
        // biome-ignore lint/a11y/noLabelWithoutControl: the label wraps its select or input (chosen below).
        <label key={f.name}>
          {f.label}
          {f.options ? (
            <select
              name={f.name}
              value={draft[f.name] ?? ''}
              onChange={(e) => setDraft({ ...draft, [f.name]: e.currentTarget.value })}
            >
              <option value="">any</option>
              {f.options.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          ) : (
            <input
              name={f.name}
              value={draft[f.name] ?? ''}
              autocomplete="off"
              spellcheck={false}
              onInput={(e) => setDraft({ ...draft, [f.name]: e.currentTarget.value })}
            />
          )}
        </label>
      ))}
      {view.eventTypes && (
        <fieldset class="event-types">
          <legend>Event types (none checked: all)</legend>
          {view.eventTypes.map((t) => (
            <label key={t} class="check">
              <input
                type="checkbox"
                name="eventTypes"
                value={t}
                checked={types.includes(t)}
                onChange={(e) =>
                  setTypes(e.currentTarget.checked ? [...types, t] : types.filter((x) => x !== t))
                }
              />
              {t}
            </label>
          ))}
        </fieldset>
      )}
      <div class="filter-actions">
        <button type="submit">Apply filters</button>
        <button type="button" onClick={clear} disabled={active.length === 0 && state.eventTypes.length === 0}>
          Clear filters
        </button>
      </div>
      {active.length > 0 && (
        <ul class="chips" aria-label="Active filters">
          {active.map(([name, value]) => (
            <li key={name}>
              {view.filters.find((f) => f.name === name)?.label}: <code>{value}</code>{' '}
              <button
                type="button"
                aria-label={`Remove the filter ${name}`}
                onClick={() => {
                  const { [name]: _removed, ...rest } = state.filters;
                  navigate({ filters: rest, event: undefined });
                }}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function HistogramPanel({
  selection,
  navigate,
}: {
  selection: EventSelection;
  navigate: EventsViewProps['navigate'];
}) {
  const [data, setData] = useState<HistogramAnswer>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const controller = new AbortController();
    fetchHistogram(selection, controller.signal).then(setData, (err: unknown) => {
      if (!controller.signal.aborted) setError(err);
    });
    return () => controller.abort();
  }, []);
  if (error) return <Problem error={error} what="the histogram" />;
  if (!data)
    return (
      <p class="loading" aria-busy="true">
        Counting events…
      </p>
    );
  return (
    <Histogram
      data={data}
      onSelect={(start, end) => navigate({ range: 'custom', from: start, to: end, event: undefined })}
    />
  );
}

interface TablePage {
  /** Which page this is (0-based); the one asked for may still be loading. */
  index: number;
  rows: EventRow[];
  nextToken?: string;
}

function EventTable({
  selection,
  state,
  navigate,
}: { selection: EventSelection } & Omit<EventsViewProps, 'now'>) {
  // tokens[i] is the nextToken that fetches page i (page 0 has none).
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [index, setIndex] = useState(0);
  const [page, setPage] = useState<TablePage>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    fetchEventPage(selection, tokens[index], controller.signal).then(
      (answer) => {
        setPage({
          index,
          rows: answer.events.map((raw) => eventRow(selection.source, raw)),
          nextToken: answer.nextToken,
        });
        setLoading(false);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [index]);
  const columns = useMemo(() => columnsOf(selection.source), [selection.source]);
  const next = (): void => {
    if (!page?.nextToken) return;
    const known = tokens.slice(0, index + 1);
    setTokens([...known, page.nextToken]);
    setIndex(index + 1);
  };
  const open = state.event;
  const openRow = open ? page?.rows.find((r) => r.id === open.id) : undefined;
  const shown = page?.index ?? index;
  const first = shown * PAGE_SIZE + 1;
  return (
    <div class="events-and-detail">
      <section class="table-panel" aria-labelledby="table-title">
        <div class="table-head">
          <h2 id="table-title">Events</h2>
          <nav class="pager" aria-label="Pages of events">
            <button type="button" onClick={() => setIndex(index - 1)} disabled={index === 0 || loading}>
              Previous page
            </button>
            <span data-testid="page-label">
              {page && page.rows.length > 0
                ? `Page ${shown + 1} · events ${count(first)}–${count(first + page.rows.length - 1)}`
                : `Page ${shown + 1}`}
            </span>
            <button
              type="button"
              onClick={next}
              disabled={!page?.nextToken || loading}
              data-testid="next-page"
            >
              Next page
            </button>
          </nav>
        </div>
        {error ? (
          <Problem error={error} what="the events" />
        ) : !page ? (
          <p class="loading" aria-busy="true">
            Loading events…
          </p>
        ) : page.rows.length === 0 ? (
          <p class="empty">No events match in this range.</p>
        ) : (
          <div class="table-scroll" aria-busy={loading}>
            <table class="events" data-page={page.index + 1} data-loading={loading ? 'true' : 'false'}>
              <thead>
                <tr>
                  <th scope="col">Time (UTC)</th>
                  {columns.map((c) => (
                    <th scope="col" key={c.key}>
                      {c.title}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {page.rows.map((row) => (
                  <tr
                    key={row.id}
                    data-event-id={row.id}
                    class={open?.id === row.id ? 'selected' : row.error ? 'failed' : ''}
                  >
                    <td>
                      <button
                        type="button"
                        class="link"
                        title={`${local(row.time)}; open the whole event`}
                        aria-expanded={open?.id === row.id}
                        onClick={() => navigate({ event: { id: row.id, time: row.time } })}
                      >
                        {Number.isNaN(row.time) ? '—' : utc(row.time)}
                      </button>
                    </td>
                    {columns.map((c) => (
                      <td key={c.key}>{String(row[c.key] ?? '')}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {open && (
        <EventDetail
          key={open.id}
          selection={selection}
          open={open}
          row={openRow}
          close={() => navigate({ event: undefined })}
          filterBy={(filters) => navigate({ filters: { ...state.filters, ...filters }, event: undefined })}
        />
      )}
    </div>
  );
}
