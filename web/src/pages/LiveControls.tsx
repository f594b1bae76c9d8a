import { useEffect, useState } from 'react';
import { formatRelative } from '../lib/time.ts';

/** The "Live" switch of a list, with when it was last refreshed. */
export function LiveControls(props: { live: boolean; onLiveChange(live: boolean): void; updatedAt: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return (
    <div className="live-controls">
      <label className="switch">
        <input type="checkbox" checked={props.live} onChange={(e) => props.onLiveChange(e.target.checked)} />
        Live
      </label>
      {props.updatedAt > 0 && (
        <span className="muted small-text" aria-live="off">
          updated {formatRelative(props.updatedAt * 1000, now * 1000)}
        </span>
      )}
    </div>
  );
}
