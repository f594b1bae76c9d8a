// Every state update of the run, in replay order. The current one is kept in view. Items are
// memoised: moving one step re-renders two rows, not the whole list.
import { memo, useEffect, useRef } from 'react';
import type { Span } from '../../api/types.ts';
import type { StateStep } from '../../lib/state.ts';

export const StepList = memo(function StepList(props: {
  steps: StateStep[];
  current: number;
  spanById: Map<string, Span>;
  showStore: boolean;
  onSelect(index: number): void;
}) {
  const { steps, current, spanById, showStore, onSelect } = props;
  const listRef = useRef<HTMLOListElement>(null);
  useEffect(() => {
    listRef.current?.querySelector(`[data-step="${current}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [current]);
  return (
    <ol className="step-list" ref={listRef} aria-label="State updates">
      {steps.map((step) => (
        <StepItem
          key={step.index}
          step={step}
          isCurrent={step.index === current}
          spanName={spanById.get(step.event.spanId)?.name ?? step.event.spanId}
          showStore={showStore}
          onSelect={onSelect}
        />
      ))}
    </ol>
  );
});

const StepItem = memo(function StepItem(props: {
  step: StateStep;
  isCurrent: boolean;
  spanName: string;
  showStore: boolean;
  onSelect(index: number): void;
}) {
  const { step } = props;
  return (
    <li>
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
