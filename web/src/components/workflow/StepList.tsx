// Every state update of the run, in replay order. The current one is kept in view.
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
      {steps.map((step) => {
        const span = spanById.get(step.event.spanId);
        return (
          <li key={step.index}>
            <button
              type="button"
              data-step={step.index}
              aria-current={step.index === current ? 'step' : undefined}
              className={`step-item${step.error ? ' has-error' : ''}${step.noop ? ' is-noop' : ''}`}
              onClick={() => onSelect(step.index)}
            >
              <span className="step-number">{step.index + 1}</span>
              <span className="step-text">
                <span className="step-action">{step.event.action}</span>
                <span className="step-node muted">
                  {span?.name ?? step.event.spanId}
                  {showStore && ` · ${step.event.storeName}`}
                </span>
              </span>
              {step.noop && <span className="badge">no change</span>}
              {step.error && <span className="badge error">failed</span>}
            </button>
          </li>
        );
      })}
    </ol>
  );
});
