/**
 * One event in full: its JSON as the API returned it, the request and response payloads decoded when
 * they are JSON, a copy button, and one-click filters by its user, project or request id.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type EventSelection, fetchEventPage } from '../api';
import { decodedPayload, type EventRow, eventRow } from '../events';
import { local, utc } from '../format';
import { SOURCE_VIEWS } from '../state';
import { Problem } from './problem';

interface EventDetailProps {
  selection: EventSelection;
  open: { id: string; time: number };
  /** The event when it is on the table's page; else it is looked up by its time. */
  row: EventRow | undefined;
  close(): void;
  filterBy(filters: Record<string, string>): void;
}

/** Finds an event by id among the instance's events of its millisecond (a pasted link). */
async function lookUp(
  selection: EventSelection,
  open: EventDetailProps['open'],
  signal: AbortSignal,
): Promise<EventRow | undefined> {
  const at = { ...selection, start: open.time, end: open.time + 1, filters: {}, eventTypes: [] };
  let token: string | undefined;
  do {
    const page = await fetchEventPage(at, token, signal);
    const found = page.events.map((raw) => eventRow(selection.source, raw)).find((r) => r.id === open.id);
    if (found) return found;
    token = page.nextToken;
  } while (token);
  return undefined;
}

export function EventDetail({ selection, open, row, close, filterBy }: EventDetailProps) {
  const [found, setFound] = useState<EventRow | undefined | null>(row ?? null);
  const [error, setError] = useState<unknown>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (row) return;
    const controller = new AbortController();
    lookUp(selection, open, controller.signal).then(setFound, (err: unknown) => {
      if (!controller.signal.aborted) setError(err);
    });
    return () => controller.abort();
  }, []);
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') close();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [close]);
  const event = row ?? found;
  return (
    <aside class="detail" aria-labelledby="detail-title">
      <div class="detail-head">
        <h2 id="detail-title" tabIndex={-1} ref={heading}>
          {event ? event.name || 'Event' : 'Event'}
        </h2>
        <button type="button" onClick={close} aria-label="Close the event">
          Close
        </button>
      </div>
      {error ? (
        <Problem error={error} what="the event" />
      ) : event === null ? (
        <p class="loading" aria-busy="true">
          Finding the event…
        </p>
      ) : event === undefined ? (
        <p class="problem" role="alert">
          No event with id <code>{open.id}</code> at {utc(open.time, true)} in this archive.
        </p>
      ) : (
        <EventBody
          event={event}
          filterBy={filterBy}
          offered={new Set(SOURCE_VIEWS[selection.source]?.filters.map((f) => f.name))}
        />
      )}
    </aside>
  );
}

function EventBody({
  event,
  filterBy,
  offered,
}: {
  event: EventRow;
  filterBy: EventDetailProps['filterBy'];
  /** The filters the source's API has: a quick filter is offered only where the API can apply it. */
  offered: ReadonlySet<string>;
}) {
  const text = JSON.stringify(event.raw, null, 2);
  const [copied, setCopied] = useState('');
  const copy = (): void => {
    navigator.clipboard.writeText(text).then(
      () => setCopied('Copied.'),
      () => setCopied('The browser refused the clipboard; select the text instead.'),
    );
  };
  const request = decodedPayload(event.raw, 'requestPayload');
  const response = decodedPayload(event.raw, 'responsePayload');
  return (
    <div class="detail-body">
      <dl class="facts">
        <dt>Time</dt>
        <dd title={local(event.time)}>{utc(event.time, true)}</dd>
        <dt>Id</dt>
        <dd>
          <code data-testid="detail-id">{event.id}</code>
        </dd>
      </dl>
      <div class="quick-filters">
        {event.user && offered.has('userName') && (
          <button type="button" onClick={() => filterBy({ userName: event.user })}>
            Only this user
          </button>
        )}
        {event.project && offered.has('projectName') && (
          <button type="button" onClick={() => filterBy({ projectName: event.project })}>
            Only this project
          </button>
        )}
        {event.requestId && offered.has('requestId') && (
          <button type="button" onClick={() => filterBy({ requestId: event.requestId })}>
            Only this request
          </button>
        )}
      </div>
      <div class="json-head">
        <h3>Event JSON</h3>
        <button type="button" onClick={copy}>
          Copy JSON
        </button>
        <span role="status" class="hint">
          {copied}
        </span>
      </div>
      <JsonBlock text={text} testId="event-json" />
      {request !== undefined && (
        <JsonBlock title="Request payload (decoded)" text={JSON.stringify(request, null, 2)} />
      )}
      {response !== undefined && (
        <JsonBlock title="Response payload (decoded)" text={JSON.stringify(response, null, 2)} />
      )}
    </div>
  );
}

/** A JSON document as text, in a box that scrolls and can be reached by keyboard to scroll it. */
function JsonBlock({ title, text, testId }: { title?: string; text: string; testId?: string }) {
  return (
    <>
      {title && <h3>{title}</h3>}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling block must be reachable by keyboard to scroll it. */}
      <pre class="json" data-testid={testId} tabIndex={0}>
        {text}
      </pre>
    </>
  );
}
