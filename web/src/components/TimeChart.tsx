// One uPlot chart over a time axis that fills its container's width: created once per data and
// colour set, resized with the container, destroyed on unmount. A tooltip follows the cursor's
// bucket, and a click reports the bucket and the value at the cursor's height.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface TimeChartProps {
  /** x in epoch seconds first, then one column per series. */
  data: uPlot.AlignedData;
  /** Every option but the size; re-created when this object changes (memoize it). */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  height: number;
  /** The tooltip's text for a data index. */
  tooltip: (idx: number) => string;
  onClick: (idx: number, valueAtCursor: number) => void;
  label: string;
}

export function TimeChart({ data, options, height, tooltip, onClick, label }: TimeChartProps) {
  const container = useRef<HTMLDivElement>(null);
  // The latest callbacks, without re-creating the chart when only they change.
  const callbacks = useRef({ tooltip, onClick });
  callbacks.current = { tooltip, onClick };

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const tip = document.createElement('div');
    tip.className = 'chart-tooltip';
    tip.hidden = true;
    const showTip = (u: uPlot) => {
      const { idx, left, top } = u.cursor;
      if (idx === null || idx === undefined || left === undefined || left < 0) {
        tip.hidden = true;
        return;
      }
      tip.textContent = callbacks.current.tooltip(idx);
      tip.hidden = false;
      // Beside the cursor, on the side with room.
      const flip = left > u.over.clientWidth / 2;
      tip.style.left = flip ? '' : `${left + 12}px`;
      tip.style.right = flip ? `${u.over.clientWidth - left + 12}px` : '';
      tip.style.top = `${Math.max(0, (top ?? 0) - 12)}px`;
    };
    const chart = new uPlot(
      {
        ...options,
        width: element.clientWidth,
        height,
        hooks: { ...options.hooks, setCursor: [...(options.hooks?.setCursor ?? []), showTip] },
      },
      data,
      element,
    );
    chart.over.append(tip);
    chart.over.addEventListener('click', () => {
      const { idx, top } = chart.cursor;
      if (idx === null || idx === undefined || top === undefined) return;
      callbacks.current.onClick(idx, chart.posToVal(top, 'y'));
    });
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [data, options, height]);

  return <div ref={container} className="time-chart" role="img" aria-label={label} />;
}
