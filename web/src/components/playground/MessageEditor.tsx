// The prompt as an editable list of messages: role, text, move up/down, remove, add.
import type { ChatMessage } from '../../api/types.ts';
import type { PlaygroundMessage } from '../../lib/playground_prefill.ts';

const ROLES: ChatMessage['role'][] = ['system', 'developer', 'user', 'assistant', 'tool'];

/** A message with a stable key for React while the list is reordered. */
export interface EditableMessage extends PlaygroundMessage {
  key: number;
}

let nextKey = 1;
export const editable = (m: PlaygroundMessage): EditableMessage => ({ ...m, key: nextKey++ });

export function MessageEditor({
  messages,
  onChange,
}: {
  messages: EditableMessage[];
  onChange: (messages: EditableMessage[]) => void;
}) {
  const update = (index: number, patch: Partial<PlaygroundMessage>) =>
    onChange(messages.map((m, i) => (i === index ? { ...m, ...patch } : m)));
  const move = (index: number, by: -1 | 1) => {
    const next = [...messages];
    const [moved] = next.splice(index, 1);
    if (moved) next.splice(index + by, 0, moved);
    onChange(next);
  };
  return (
    <section className="pg-messages" aria-label="Messages">
      {messages.map((m, i) => (
        <div className={`pg-message role-${m.role}`} key={m.key}>
          <div className="pg-message-head">
            <select
              aria-label={`Role of message ${i + 1}`}
              value={m.role}
              onChange={(e) => update(i, { role: e.target.value as ChatMessage['role'] })}
            >
              {ROLES.map((role) => (
                <option key={role}>{role}</option>
              ))}
            </select>
            <span className="pg-message-actions">
              <button
                type="button"
                className="ghost small"
                aria-label={`Move message ${i + 1} up`}
                disabled={i === 0}
                onClick={() => move(i, -1)}
              >
                ↑
              </button>
              <button
                type="button"
                className="ghost small"
                aria-label={`Move message ${i + 1} down`}
                disabled={i === messages.length - 1}
                onClick={() => move(i, 1)}
              >
                ↓
              </button>
              <button
                type="button"
                className="ghost small"
                aria-label={`Remove message ${i + 1}`}
                onClick={() => onChange(messages.filter((_, j) => j !== i))}
              >
                ✕
              </button>
            </span>
          </div>
          <textarea
            aria-label={`Content of message ${i + 1}`}
            value={m.content}
            rows={Math.min(12, Math.max(2, m.content.split('\n').length + 1))}
            onChange={(e) => update(i, { content: e.target.value })}
          />
        </div>
      ))}
      <button
        type="button"
        className="small"
        onClick={() =>
          onChange([...messages, editable({ role: messages.length === 0 ? 'system' : 'user', content: '' })])
        }
      >
        + Add message
      </button>
    </section>
  );
}
