// Two answers side by side (the span's original output or any run, against another run), their
// latency, tokens and finish reason, and a word diff from the left one to the right one.
import { diffText } from '../../lib/text_diff.ts';
import { formatDuration } from '../../lib/time.ts';

export interface Answer {
  id: string;
  label: string;
  model: string | null;
  output: string;
  status: 'streaming' | 'done' | 'error';
  error: string | null;
  latencyMs: number | null;
  tokensIn: number | null;
  tokensOut: number | null;
  finishReason: string | null;
}

export function RunComparison({
  answers,
  leftId,
  rightId,
  onPick,
}: {
  answers: Answer[];
  leftId: string;
  rightId: string;
  onPick: (side: 'left' | 'right', id: string) => void;
}) {
  const left = answers.find((a) => a.id === leftId);
  const right = answers.find((a) => a.id === rightId);
  return (
    <section className="pg-compare" aria-label="Comparison">
      <div className="pg-columns">
        {(['left', 'right'] as const).map((side) => {
          const answer = side === 'left' ? left : right;
          return (
            <div className="pg-column" key={side} data-testid={`answer-${side}`}>
              <select
                aria-label={`${side} answer`}
                value={answer?.id ?? ''}
                onChange={(e) => onPick(side, e.target.value)}
              >
                {answers.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.label}
                  </option>
                ))}
              </select>
              {answer ? (
                <AnswerView answer={answer} />
              ) : (
                <p className="muted">Run the prompt to see an answer here.</p>
              )}
            </div>
          );
        })}
      </div>
      {left && right && left.id !== right.id && (
        <div className="pg-diff">
          <h3>
            Diff{' '}
            <span className="muted small-text">
              {left.label} → {right.label}
            </span>
          </h3>
          <pre className="pg-output" data-testid="answer-diff">
            {diffText(left.output, right.output).map((part, i) =>
              part.kind === 'same' ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: diff parts have no identity besides their position
                <span key={i}>{part.text}</span>
              ) : part.kind === 'added' ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: as above
                <ins key={i} className="diff-added">
                  {part.text}
                </ins>
              ) : (
                // biome-ignore lint/suspicious/noArrayIndexKey: as above
                <del key={i} className="diff-removed">
                  {part.text}
                </del>
              ),
            )}
          </pre>
        </div>
      )}
    </section>
  );
}

function AnswerView({ answer }: { answer: Answer }) {
  return (
    <>
      <dl className="facts pg-facts">
        <dt>Model</dt>
        <dd>{answer.model ?? '—'}</dd>
        <dt>Latency</dt>
        <dd>{answer.latencyMs === null ? '—' : formatDuration(answer.latencyMs * 1000)}</dd>
        <dt>Tokens</dt>
        <dd>
          {answer.tokensIn ?? '?'} in · {answer.tokensOut ?? '?'} out
        </dd>
        <dt>Finish reason</dt>
        <dd data-testid="finish-reason">{answer.finishReason ?? '—'}</dd>
      </dl>
      {answer.error && (
        <p className="notice notice-error" role="alert">
          {answer.error}
        </p>
      )}
      <pre className="pg-output" aria-busy={answer.status === 'streaming'} data-testid="answer-output">
        {answer.output || (answer.status === 'streaming' ? '…' : '')}
      </pre>
    </>
  );
}
