import type { ExceptionInfo } from '../lib/span_facts.ts';

export function ExceptionList({ exceptions }: { exceptions: ExceptionInfo[] }) {
  return (
    <ul className="exceptions">
      {exceptions.map((ex, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: exception events have no identity besides their position
        <li key={i} className="exception">
          <div className="exception-head">
            <strong>{ex.type}</strong>
            {ex.source !== 'exception' && <span className="badge">{ex.source}</span>}
            {ex.escaped === false && <span className="badge">handled</span>}
          </div>
          {ex.message && <p className="exception-message">{ex.message}</p>}
          {ex.stacktrace && (
            <details open={i === 0}>
              <summary>Stack trace</summary>
              <pre className="stacktrace">{ex.stacktrace}</pre>
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}
