// Provider, model and parameters of a playground run. Values stay as typed text until Run, where
// `toRequest` turns them into a request (or says what is wrong).
import type { GenerateRequest, ReasoningEffort, ResponseFormat } from '../../api/types.ts';
import type { PlaygroundPrefill } from '../../lib/playground_prefill.ts';

export interface Settings {
  provider: string;
  model: string;
  temperature: string;
  top_p: string;
  max_tokens: string;
  stop: string;
  reasoning_effort: '' | ReasoningEffort;
  format: ResponseFormat['type'];
  schemaName: string;
  schemaText: string;
}

export const emptySettings: Settings = {
  provider: '',
  model: '',
  temperature: '',
  top_p: '',
  max_tokens: '',
  stop: '',
  reasoning_effort: '',
  format: 'text',
  schemaName: 'response',
  schemaText: '',
};

export function settingsFrom(prefill: PlaygroundPrefill, provider: string): Settings {
  const p = prefill.params;
  const format = prefill.responseFormat;
  return {
    ...emptySettings,
    provider,
    model: prefill.model ?? '',
    temperature: p.temperature === undefined ? '' : String(p.temperature),
    top_p: p.top_p === undefined ? '' : String(p.top_p),
    max_tokens: p.max_tokens === undefined ? '' : String(p.max_tokens),
    stop: (p.stop ?? []).join(', '),
    reasoning_effort: p.reasoning_effort ?? '',
    format: format?.type ?? 'text',
    schemaName: format?.type === 'json_schema' ? format.json_schema.name : 'response',
    schemaText: format?.type === 'json_schema' ? JSON.stringify(format.json_schema.schema, null, 2) : '',
  };
}

/** The request parameters, or the first problem with what was typed. */
export function toRequest(
  s: Settings,
): { params: Omit<GenerateRequest, 'messages' | 'stream'> } | { problem: string } {
  if (!s.provider) return { problem: 'Choose a provider' };
  if (!s.model.trim()) return { problem: 'Choose or type a model' };
  const params: Omit<GenerateRequest, 'messages' | 'stream'> = {
    provider: s.provider,
    model: s.model.trim(),
  };
  const numbers = [
    ['temperature', s.temperature, 0, 2],
    ['top_p', s.top_p, 0, 1],
    ['max_tokens', s.max_tokens, 1, 1_000_000],
  ] as const;
  for (const [name, raw, min, max] of numbers) {
    if (raw.trim() === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (name === 'max_tokens' && !Number.isInteger(n)))
      return { problem: `${name} must be a number from ${min} to ${max}` };
    params[name] = n;
  }
  const stop = s.stop
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (stop.length > 4) return { problem: 'At most 4 stop sequences' };
  if (stop.length > 0) params.stop = stop;
  if (s.reasoning_effort) params.reasoning_effort = s.reasoning_effort;
  if (s.format === 'json_object') params.response_format = { type: 'json_object' };
  if (s.format === 'json_schema') {
    let schema: unknown;
    try {
      schema = JSON.parse(s.schemaText);
    } catch {
      return { problem: 'The JSON schema is not valid JSON' };
    }
    if (!schema || typeof schema !== 'object' || Array.isArray(schema))
      return { problem: 'The JSON schema must be an object' };
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(s.schemaName))
      return { problem: 'The schema name may use letters, digits, _ and - only' };
    params.response_format = {
      type: 'json_schema',
      json_schema: { name: s.schemaName, schema: schema as Record<string, unknown>, strict: true },
    };
  }
  return { params };
}

export function SettingsForm({
  settings,
  onChange,
  providers,
  models,
  modelsError,
  onRefreshModels,
}: {
  settings: Settings;
  onChange: (s: Settings) => void;
  providers: string[];
  models: string[];
  modelsError: string | null;
  onRefreshModels: () => void;
}) {
  const set = <K extends keyof Settings>(key: K, value: Settings[K]) =>
    onChange({ ...settings, [key]: value });
  return (
    <section className="pg-settings" aria-label="Settings">
      <label>
        Provider
        <select value={settings.provider} onChange={(e) => set('provider', e.target.value)}>
          {providers.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </label>
      <label>
        Model
        <span className="pg-model-row">
          <input
            name="model"
            list="pg-models"
            value={settings.model}
            onChange={(e) => set('model', e.target.value)}
          />
          <button
            type="button"
            className="small"
            title="Ask the provider for its models again"
            onClick={onRefreshModels}
          >
            ↻
          </button>
        </span>
        <datalist id="pg-models">
          {models.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
        {modelsError && <span className="form-error small-text">{modelsError}</span>}
      </label>
      <div className="pg-params">
        <label>
          Temperature
          <input
            name="temperature"
            inputMode="decimal"
            placeholder="default"
            value={settings.temperature}
            onChange={(e) => set('temperature', e.target.value)}
          />
        </label>
        <label>
          Top p
          <input
            name="top_p"
            inputMode="decimal"
            placeholder="default"
            value={settings.top_p}
            onChange={(e) => set('top_p', e.target.value)}
          />
        </label>
        <label>
          Max tokens
          <input
            name="max_tokens"
            inputMode="numeric"
            placeholder="default"
            value={settings.max_tokens}
            onChange={(e) => set('max_tokens', e.target.value)}
          />
        </label>
        <label>
          Reasoning effort
          <select
            value={settings.reasoning_effort}
            onChange={(e) => set('reasoning_effort', e.target.value as Settings['reasoning_effort'])}
          >
            <option value="">default</option>
            {(['none', 'minimal', 'low', 'medium', 'high'] as const).map((effort) => (
              <option key={effort}>{effort}</option>
            ))}
          </select>
        </label>
      </div>
      <label>
        Stop sequences (comma-separated)
        <input name="stop" value={settings.stop} onChange={(e) => set('stop', e.target.value)} />
      </label>
      <label>
        Response format
        <select value={settings.format} onChange={(e) => set('format', e.target.value as Settings['format'])}>
          <option value="text">text</option>
          <option value="json_object">JSON mode (json_object)</option>
          <option value="json_schema">JSON schema</option>
        </select>
      </label>
      {settings.format === 'json_schema' && (
        <>
          <label>
            Schema name
            <input
              name="schema_name"
              value={settings.schemaName}
              onChange={(e) => set('schemaName', e.target.value)}
            />
          </label>
          <label>
            JSON schema
            <textarea
              className="mono"
              rows={8}
              value={settings.schemaText}
              onChange={(e) => set('schemaText', e.target.value)}
            />
          </label>
        </>
      )}
    </section>
  );
}
