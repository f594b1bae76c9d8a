// A workflow's two overview charts: runs with their errors per bucket (bars, the errors drawn over
// the runs), and the p50/p95/p99 duration (lines with gaps where no run was). A click on a bucket
// opens the search of its runs, of its failed runs on the errors bar.
import { useMemo } from 'react';
import { useNavigate } from 'react-router';
import uPlot from 'uplot';
import type { WorkflowStatsBucket } from '../api/types.ts';
import { useThemeColors } from '../hooks/useThemeColors.ts';
import {
  bucketLabel,
  bucketSearchUrl,
  chartColumns,
  clickedSeries,
  countAxisMax,
  formatMs,
} from '../lib/overview.ts';
import { TimeChart } from './TimeChart.tsx';

const COLORS = {
  text: '--text-muted',
  grid: '--border',
  runs: '--kind-workflow',
  errors: '--error',
  p50: '--ok',
  p95: '--warn',
  p99: '--error',
};
const HEIGHT = 200;

export interface WorkflowChartsProps {
  service: string;
  workflow: string;
  buckets: WorkflowStatsBucket[];
  bucketSeconds: number;
  /** The range in epoch seconds: the x axis shows all of it. */
  range: [number, number];
}

export function WorkflowCharts({ service, workflow, buckets, bucketSeconds, range }: WorkflowChartsProps) {
  const navigate = useNavigate();
  const colors = useThemeColors(COLORS);
  const columns = useMemo(() => chartColumns(buckets, bucketSeconds), [buckets, bucketSeconds]);
  const runsData = useMemo<uPlot.AlignedData>(() => [columns.x, columns.runs, columns.errors], [columns]);
  const durationData = useMemo<uPlot.AlignedData>(
    () => [columns.x, columns.p50, columns.p95, columns.p99],
    [columns],
  );
  const countMax = countAxisMax(buckets);

  const runsOptions = useMemo(() => {
    const bars = uPlot.paths.bars!({ size: [0.8, 48], align: 0 });
    return chartOptions(colors, range, {
      y: { range: [0, countMax] },
      series: [
        // No outline: an empty bucket's zero-height bar would draw a line along the axis.
        {
          label: 'Runs',
          fill: colors.runs,
          stroke: colors.runs,
          width: 0,
          paths: bars,
          points: { show: false },
        },
        {
          label: 'Errors',
          fill: colors.errors,
          stroke: colors.errors,
          width: 0,
          paths: bars,
          points: { show: false },
        },
      ],
      yValues: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')),
    });
  }, [colors, range, countMax]);

  const durationOptions = useMemo(
    () =>
      chartOptions(colors, range, {
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        series: (['p50', 'p95', 'p99'] as const).map((q) => ({
          label: q,
          stroke: colors[q],
          width: 2,
          spanGaps: false,
          // Always: a bucket between two empty ones has no line to show it.
          points: { show: true, size: 5, fill: colors[q] },
        })),
        yValues: (_u, ticks) => ticks.map((t) => formatMs(t)),
      }),
    [colors, range],
  );

  const open = (idx: number, errorsOnly: boolean) => {
    const bucket = buckets[idx];
    if (bucket) void navigate(bucketSearchUrl(service, workflow, bucket, bucketSeconds, errorsOnly));
  };
  const label = (idx: number) => bucketLabel(buckets[idx]!, bucketSeconds);
  const totals = buckets.reduce((sum, b) => ({ runs: sum.runs + b.runs, errors: sum.errors + b.errors }), {
    runs: 0,
    errors: 0,
  });

  return (
    <section className="card overview-card" aria-labelledby={`wf-${workflow}`}>
      <h2 id={`wf-${workflow}`} className="overview-title">
        {workflow || '(unnamed)'}{' '}
        <span className="muted">
          {counted(totals.runs, 'run')}, {counted(totals.errors, 'error')}
        </span>
      </h2>
      <div className="overview-charts">
        <figure>
          <figcaption>Runs and errors</figcaption>
          <TimeChart
            data={runsData}
            options={runsOptions}
            height={HEIGHT}
            label={`Runs and errors of ${workflow} over time: ${totals.runs} runs, ${totals.errors} errors`}
            tooltip={(idx) => {
              const b = buckets[idx]!;
              return `${label(idx)}\n${counted(b.runs, 'run')}, ${counted(b.errors, 'error')}\nclick: search these runs`;
            }}
            onClick={(idx, value) => open(idx, clickedSeries(value, buckets[idx]!) === 'errors')}
          />
        </figure>
        <figure>
          <figcaption>Duration p50 / p95 / p99</figcaption>
          <TimeChart
            data={durationData}
            options={durationOptions}
            height={HEIGHT}
            label={`Duration percentiles of ${workflow} over time`}
            tooltip={(idx) => {
              const b = buckets[idx]!;
              return b.runs === 0
                ? `${label(idx)}\nno runs`
                : `${label(idx)}\np50 ${formatMs(b.p50_ms)}, p95 ${formatMs(b.p95_ms)}, p99 ${formatMs(b.p99_ms)}`;
            }}
            onClick={(idx) => open(idx, false)}
          />
        </figure>
      </div>
    </section>
  );
}

function counted(n: number, noun: string): string {
  return `${n.toLocaleString()} ${noun}${n === 1 ? '' : 's'}`;
}

function chartOptions(
  colors: Record<keyof typeof COLORS, string>,
  range: [number, number],
  chart: {
    y: uPlot.Scale;
    series: uPlot.Series[];
    yValues: uPlot.Axis.DynamicValues;
  },
): Omit<uPlot.Options, 'width' | 'height'> {
  const axis = {
    stroke: colors.text,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.grid },
  };
  return {
    scales: { x: { time: true, range: () => range }, y: chart.y },
    series: [{}, ...chart.series],
    axes: [axis, { ...axis, size: 70, values: chart.yValues }],
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
  };
}
