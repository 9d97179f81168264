/**
 * Events over time as stacked bars (read, write, failed), drawn by uPlot. Dragging across the chart
 * narrows the range to the buckets dragged over; the totals above it are text, for every reader.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { HistogramAnswer } from '../api';
import { count, utc } from '../format';

export const SERIES = [
  { key: 'read', label: 'Read', color: '#6b9bd1' },
  { key: 'write', label: 'Write', color: '#2e7d4f' },
  { key: 'failed', label: 'Failed', color: '#c62828' },
] as const;

interface HistogramProps {
  data: HistogramAnswer;
  /** Called with the dragged range, epoch ms, snapped to whole buckets. */
  onSelect(start: number, end: number): void;
}

const BUCKET_MS = { hour: 3_600_000, day: 86_400_000 } as const;

/** The plotted columns: x in seconds, then the stacked tops (read on top, failed at the bottom). */
function columns(data: HistogramAnswer): uPlot.AlignedData {
  const x = data.buckets.map((b) => Date.parse(b.start) / 1000);
  const failed = data.buckets.map((b) => b.failed);
  const write = data.buckets.map((b) => b.write + b.failed);
  const all = data.buckets.map((b) => b.read + b.write + b.failed);
  return [x, all, write, failed];
}

export function Histogram({ data, onSelect }: HistogramProps) {
  const holder = useRef<HTMLDivElement>(null);
  const hover = useRef<HTMLParagraphElement>(null);
  const select = useRef(onSelect);
  select.current = onSelect;

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const size = BUCKET_MS[data.bucket];
    const bars = uPlot.paths.bars!({ size: [0.85, 64], align: 1 });
    const options: uPlot.Options = {
      width: Math.max(280, element.clientWidth),
      height: 180,
      // Times on the axis in UTC, as everywhere on the page.
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: {
        x: { time: true, range: (_u, min, max) => [min, max + size / 1000] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [
        {
          stroke: '#444',
          grid: { show: false },
          // Room for a whole label between ticks ("11-18 12:00").
          space: 100,
          // 24-hour UTC labels: the day, with the hour when ticks are less than a day apart.
          values: (_u, splits, _axis, _space, increment) =>
            splits.map((seconds) => {
              const text = new Date(seconds * 1000).toISOString();
              return increment < 86_400 ? `${text.slice(5, 10)} ${text.slice(11, 16)}` : text.slice(0, 10);
            }),
        },
        { stroke: '#444', size: 56, grid: { stroke: '#eee' } },
      ],
      series: [
        {},
        ...SERIES.map((s) => ({
          label: s.label,
          fill: s.color,
          stroke: s.color,
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const from = u.posToVal(u.select.left, 'x') * 1000;
            const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            const start = Math.floor(from / size) * size;
            const end = Math.max(start + size, Math.ceil(to / size) * size);
            select.current(start, end);
          },
        ],
        setCursor: [
          (u) => {
            const line = hover.current;
            if (!line) return;
            const i = u.cursor.idx;
            const bucket = i === null || i === undefined ? undefined : data.buckets[i];
            line.textContent = bucket
              ? `${utc(Date.parse(bucket.start))}: ${count(bucket.read)} read, ${count(bucket.write)} write, ${count(bucket.failed)} failed`
              : 'Drag across the chart to narrow the range.';
          },
        ],
      },
    };
    const plot = new uPlot(options, columns(data), element);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, element.clientWidth), height: 180 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data]);

  const per = data.bucket === 'hour' ? 'per hour' : 'per day';
  return (
    <figure class="histogram" aria-label={`Events ${per}: ${count(data.total)} in all`}>
      <figcaption>
        <strong data-testid="histogram-total">{count(data.total)}</strong> events {per} ·{' '}
        {SERIES.map((s) => (
          <span class="legend-item" key={s.key}>
            <span class="swatch" style={{ background: s.color }} aria-hidden="true" />
            {s.label} <span data-testid={`histogram-${s.key}`}>{count(data[s.key])}</span>
          </span>
        ))}
      </figcaption>
      <div ref={holder} class="chart" data-testid="histogram-chart" />
      <p ref={hover} class="hint" aria-live="off">
        Drag across the chart to narrow the range.
      </p>
    </figure>
  );
}
