/**
 * The eventlog-archive console: events, coverage and integrity of the archive `serve` serves.
 * The state is the URL (state.ts); the data comes from the server (api.ts).
 */
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { fetchInstances, type InstanceSummary, type InstancesAnswer } from './api';
import { type ConsoleState, parseState, SOURCE_VIEWS, stateToSearch, type View } from './state';
import './styles.css';
import { CoverageView } from './views/coverage-view';
import { EventsView } from './views/events-view';
import { IntegrityView } from './views/integrity-view';
import { Problem } from './views/problem';

/**
 * The server's clock, from the page it sent (advancing with this machine's): relative ranges end at
 * the server's now, which a pinned server clock pins.
 */
const serverClock: () => number = (() => {
  const sent = Date.parse(
    document.querySelector('meta[name="eventlog-archive-now"]')?.getAttribute('content') ?? '',
  );
  const offset = Number.isNaN(sent) ? 0 : sent - Date.now();
  return () => Date.now() + offset;
})();

const VIEW_TITLES: Record<View, string> = { events: 'Events', coverage: 'Coverage', integrity: 'Integrity' };

/** The state from the address bar, kept in step with back and forward. */
function useUrlState(): [ConsoleState, number, (patch: Partial<ConsoleState>) => void] {
  const [state, setState] = useState(() => parseState(location.search));
  // "Now" is read when the state changes, not at each render: a relative range stays put until then.
  const [now, setNow] = useState(serverClock);
  useEffect(() => {
    const onPop = (): void => {
      setNow(serverClock());
      setState(parseState(location.search));
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((patch: Partial<ConsoleState>) => {
    setNow(serverClock());
    setState((current) => {
      const next = { ...current, ...patch };
      const search = stateToSearch(next);
      if (search !== location.search) history.pushState(null, '', search);
      return parseState(search);
    });
  }, []);
  return [state, now, navigate];
}

function App() {
  const [state, now, navigate] = useUrlState();
  const [catalog, setCatalog] = useState<InstancesAnswer>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    fetchInstances().then(setCatalog, setError);
  }, []);
  const instances = catalog?.instances ?? [];
  // The instance the URL names is queried at once; the list of instances only fills the picker
  // (an instance the archive lacks gets the API's own 404 message in the view).
  const named =
    state.source && state.instance ? { source: state.source, instance: state.instance } : undefined;
  const chosen = named;
  // No instance in the URL: the first archived one.
  useEffect(() => {
    if (catalog && !named && instances[0] && state.view !== 'integrity')
      navigate({ source: instances[0].source, instance: instances[0].instance });
  }, [catalog, named?.source, named?.instance]);
  useEffect(() => {
    const where = chosen ? ` · ${chosen.instance}` : '';
    document.title = `${VIEW_TITLES[state.view]}${where} · eventlog-archive`;
  }, [state.view, chosen]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <p class="brand">eventlog-archive</p>
        <nav aria-label="Views">
          <ul>
            {(Object.keys(VIEW_TITLES) as View[]).map((view) => (
              <li key={view}>
                <a
                  href={stateToSearch({ ...state, view, event: undefined })}
                  aria-current={state.view === view ? 'page' : undefined}
                  onClick={(e) => {
                    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                    e.preventDefault();
                    navigate({ view, event: undefined });
                  }}
                >
                  {VIEW_TITLES[view]}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {state.view !== 'integrity' && instances.length > 0 && (
          <InstancePicker instances={instances} chosen={chosen} navigate={navigate} />
        )}
      </header>
      <main id="main">
        {state.view === 'integrity' ? (
          <IntegrityView />
        ) : error ? (
          <Problem error={error} what="the archive's instances" />
        ) : !chosen && !catalog ? (
          <p class="loading" aria-busy="true">
            Opening the archive…
          </p>
        ) : !chosen && instances.length === 0 ? (
          <EmptyArchive />
        ) : !chosen ? (
          <p class="loading">Choosing an instance…</p>
        ) : state.view === 'coverage' ? (
          <CoverageView
            state={{ ...state, source: chosen.source, instance: chosen.instance }}
            navigate={navigate}
          />
        ) : (
          <EventsView
            state={{ ...state, source: chosen.source, instance: chosen.instance }}
            now={now}
            navigate={navigate}
          />
        )}
      </main>
    </>
  );
}

function InstancePicker({
  instances,
  chosen,
  navigate,
}: {
  instances: InstanceSummary[];
  chosen: { source: string; instance: string } | undefined;
  navigate(patch: Partial<ConsoleState>): void;
}) {
  const bySource = new Map<string, InstanceSummary[]>();
  for (const i of instances) bySource.set(i.source, [...(bySource.get(i.source) ?? []), i]);
  const value = chosen ? `${chosen.source}\n${chosen.instance}` : '';
  return (
    <label class="instance-picker">
      Archived instance
      <select
        value={value}
        onChange={(e) => {
          const [source, instance] = e.currentTarget.value.split('\n');
          // Filters belong to one source; an instance of another source starts without them.
          const keep = source === chosen?.source;
          navigate({
            source,
            instance,
            event: undefined,
            day: undefined,
            ...(keep ? {} : { filters: {}, eventTypes: [] }),
          });
        }}
      >
        {[...bySource].map(([source, list]) => (
          <optgroup
            key={source}
            label={`${list[0]!.sourceTitle} (${SOURCE_VIEWS[source]?.instanceLabel ?? 'instance'})`}
          >
            {list.map((i) => (
              <option key={i.instance} value={`${i.source}\n${i.instance}`}>
                {i.instance}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
    </label>
  );
}

function EmptyArchive() {
  return (
    <section class="empty-archive">
      <h1>Nothing archived yet</h1>
      <p>
        This archive has no source instance yet. Run an ingest into it, for example{' '}
        <code>eventlog-archive ingest --source codecatalyst --space SPACE --archive PATH</code>, or start the
        demo with <code>npm start</code>, then reload this page.
      </p>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
