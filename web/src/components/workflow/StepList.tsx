// Every state update of the run, in replay order, the current one kept in view. Only the rows in
// view are rendered (a long agent or loop run has thousands of updates), and rows are memoised:
// moving one step re-renders two rows.
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef } from 'react';
import type { CompactSpan } from '../../api/types.ts';
import type { StateStep } from '../../lib/state.ts';

const ROW_HEIGHT = 48;

export const StepList = memo(function StepList(props: {
  steps: StateStep[];
  current: number;
  spanById: Map<string, CompactSpan>;
  showStore: boolean;
  onSelect(index: number): void;
}) {
  const { steps, current, spanById, showStore, onSelect } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: steps.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  useEffect(() => {
    if (current >= 0) virtualizer.scrollToIndex(current, { align: 'auto' });
  }, [current, virtualizer]);
  return (
    <div ref={scrollRef} className="step-list">
      <ol aria-label="State updates" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((item) => {
          const step = steps[item.index]!;
          return (
            <StepItem
              key={step.index}
              top={item.start}
              step={step}
              isCurrent={step.index === current}
              spanName={spanById.get(step.event.spanId)?.name ?? step.event.spanId}
              showStore={showStore}
              onSelect={onSelect}
            />
          );
        })}
      </ol>
    </div>
  );
});

const StepItem = memo(function StepItem(props: {
  top: number;
  step: StateStep;
  isCurrent: boolean;
  spanName: string;
  showStore: boolean;
  onSelect(index: number): void;
}) {
  const { step } = props;
  return (
    <li style={{ transform: `translateY(${props.top}px)` }}>
      <button
        type="button"
        data-step={step.index}
        aria-current={props.isCurrent ? 'step' : undefined}
        className={`step-item${step.error ? ' has-error' : ''}${step.noop ? ' is-noop' : ''}`}
        onClick={() => props.onSelect(step.index)}
      >
        <span className="step-number">{step.index + 1}</span>
        <span className="step-text">
          <span className="step-action">{step.event.action}</span>
          <span className="step-node muted">
            {props.spanName}
            {props.showStore && ` · ${step.event.storeName}`}
          </span>
        </span>
        {step.noop && <span className="badge">no change</span>}
        {step.error && <span className="badge error">failed</span>}
      </button>
    </li>
  );
});
