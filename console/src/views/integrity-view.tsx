/**
 * Integrity: `verify` run on demand by the server over the whole archive, its progress as it goes,
 * then the verdict, the signing key, each instance's chain and every problem as `verify` reports it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type InstanceVerification, type VerifyMessage, verifyArchive } from '../api';
import { count } from '../format';
import { Problem } from './problem';

type Result = Extract<VerifyMessage, { type: 'result' }>;
type Progress = Extract<VerifyMessage, { type: 'progress' }>;

export function IntegrityView() {
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<Progress>();
  const [total, setTotal] = useState<number>();
  const [result, setResult] = useState<Result>();
  const [error, setError] = useState<unknown>();
  const controller = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => controller.current?.abort(), []);
  const run = async (): Promise<void> => {
    controller.current?.abort();
    const mine = new AbortController();
    controller.current = mine;
    setRunning(true);
    setProgress(undefined);
    setResult(undefined);
    setError(undefined);
    try {
      for await (const message of verifyArchive(mine.signal)) {
        if (message.type === 'start') setTotal(message.instances);
        else if (message.type === 'progress') setProgress(message);
        else if (message.type === 'result') setResult(message);
        else if (message.type === 'error') setError(new Error(message.message));
      }
    } catch (err) {
      if (!mine.signal.aborted) setError(err);
    } finally {
      if (controller.current === mine) setRunning(false);
    }
  };
  const problems = result?.reports.reduce((n, r) => n + r.problems.length, 0) ?? 0;
  return (
    <section aria-labelledby="integrity-title">
      <h1 id="integrity-title">Integrity</h1>
      <p>
        Checks every instance's signed digest chain (signatures, sequence, links, days) and every data object
        against its day's digest, as <code>eventlog-archive verify</code> does.
      </p>
      <button type="button" class="primary" onClick={run} disabled={running}>
        {result || error ? 'Verify again' : 'Verify the archive'}
      </button>
      {running && (
        <div class="progress" role="status" aria-live="polite">
          {total !== undefined && (
            <progress max={Math.max(1, total)} value={progress?.done ?? 0} aria-label="Instances verified" />
          )}
          <span>
            {progress
              ? `Instance ${progress.done} of ${progress.total} (${progress.instance}): ${count(progress.dataObjectsChecked)} data objects checked`
              : 'Starting…'}
          </span>
        </div>
      )}
      {error ? <Problem error={error} what="the verification" /> : null}
      {result && (
        <div data-testid="verify-result">
          {result.ok ? (
            <p class="ok-banner" data-testid="verify-ok">
              Intact: {count(result.reports.length)} instances,{' '}
              {count(result.reports.reduce((n, r) => n + r.dataObjectsChecked, 0))} data objects, every digest
              signed and linked.
            </p>
          ) : (
            <p class="gap-banner" role="alert" data-testid="verify-failed">
              <strong>
                {count(problems)} {problems === 1 ? 'problem' : 'problems'} found: the archive is not as its
                digests say.
              </strong>
            </p>
          )}
          <dl class="facts">
            <dt>Signing key</dt>
            <dd>
              {result.signingKey ? (
                <>
                  <code data-testid="key-fingerprint">{result.signingKey.fingerprint}</code> (
                  {result.signingKey.origin})
                </>
              ) : (
                'none found'
              )}
            </dd>
          </dl>
          {result.reports.map((r) => (
            <InstanceReport key={`${r.source}/${r.partition}`} report={r} />
          ))}
        </div>
      )}
    </section>
  );
}

function describeHead(head: InstanceVerification['chainHead']): string {
  if (!head) return 'none';
  return Object.entries(head)
    .map(([k, v]) => `${k} ${typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v)}`)
    .join(', ');
}

function InstanceReport({ report }: { report: InstanceVerification }) {
  return (
    <article class="instance-report" data-testid="instance-report">
      <h2>
        {report.source} · {report.instance}
      </h2>
      <dl class="facts">
        <dt>Sealed days</dt>
        <dd>
          {report.digests === 0
            ? 'none yet'
            : `${count(report.digests)} digests, ${report.firstSealedDay} to ${report.lastSealedDay}`}
        </dd>
        <dt>Chain head</dt>
        <dd>{describeHead(report.chainHead)}</dd>
        <dt>Data objects checked</dt>
        <dd>{count(report.dataObjectsChecked)}</dd>
      </dl>
      {report.problems.length > 0 && (
        <table class="findings" data-testid="problems">
          <caption>Problems</caption>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Day</th>
              <th scope="col">Key</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {report.problems.map((p, i) => (
              <tr key={i}>
                <td>{p.kind}</td>
                <td>{p.day ?? ''}</td>
                <td>
                  <code>{p.key ?? ''}</code>
                </td>
                <td>{p.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.notes.length > 0 && (
        <details>
          <summary>{report.notes.length} notes</summary>
          <ul>
            {report.notes.map((n, i) => (
              <li key={i}>
                {n.kind}
                {n.day ? ` (${n.day})` : ''}: {n.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </article>
  );
}
