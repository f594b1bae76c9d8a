// The prompt playground: opened on an LLM span (/playground?trace=…&span=…) it starts from that
// span's prompt, model and parameters; the user edits, runs (the answer streams in) and compares
// any two of the original answer and the runs kept on the page, side by side with a diff.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { listLlmModels, listLlmProviders } from '../api/endpoints.ts';
import { streamGeneration } from '../api/llm_stream.ts';
import { spanLogsQuery, spanQuery } from '../api/queries.ts';
import { type EditableMessage, editable, MessageEditor } from '../components/playground/MessageEditor.tsx';
import { type Answer, RunComparison } from '../components/playground/RunComparison.tsx';
import {
  emptySettings,
  type Settings,
  SettingsForm,
  settingsFrom,
  toRequest,
} from '../components/playground/SettingsForm.tsx';
import { ErrorNotice, errorText, Loading } from '../components/status.tsx';
import { matchProvider, prefillFromSpan } from '../lib/playground_prefill.ts';
import { paths } from '../paths.ts';
import './playground.css';

const ORIGINAL = 'original';

export function PlaygroundPage() {
  const [params] = useSearchParams();
  const traceId = params.get('trace');
  const spanId = params.get('span');
  const queryClient = useQueryClient();
  const providers = useQuery({ queryKey: ['llm-providers'], queryFn: listLlmProviders });
  const spanResult = useQuery({
    ...spanQuery(traceId ?? '', spanId ?? ''),
    enabled: Boolean(traceId && spanId),
  });
  const span = spanResult.data ?? null;
  const spanMissing = spanResult.error instanceof ApiError && spanResult.error.status === 404;
  // The GenAI instrumentations send the messages as log records of the span, not on it.
  const logs = useQuery({ ...spanLogsQuery(traceId ?? '', spanId ?? ''), enabled: Boolean(span) });
  const prefill = useMemo(
    () => (span && !logs.isLoading ? prefillFromSpan(span, logs.data ?? []) : null),
    [span, logs.isLoading, logs.data],
  );
  const providerNames = useMemo(() => providers.data?.providers.map((p) => p.name) ?? [], [providers.data]);

  const [messages, setMessages] = useState<EditableMessage[]>([editable({ role: 'user', content: '' })]);
  const [settings, setSettings] = useState<Settings>(emptySettings);
  const [runs, setRuns] = useState<Answer[]>([]);
  const [pick, setPick] = useState<{ left: string; right: string }>({ left: '', right: '' });
  const [problem, setProblem] = useState<string | null>(null);
  const running = useRef<AbortController | null>(null);

  // Start from the span once both it and the provider list are known.
  const prefilledFor = useRef<string | null>(null);
  useEffect(() => {
    // Without the span (not found, or its trace failed to load) the page still gets a provider.
    const key = `${spanId ?? ''}:${prefill ? 'span' : 'none'}`;
    if (
      !providers.data ||
      (traceId && (spanResult.isLoading || logs.isLoading)) ||
      prefilledFor.current === key
    )
      return;
    prefilledFor.current = key;
    const provider = matchProvider(prefill?.provider ?? null, providerNames) ?? '';
    if (prefill) {
      if (prefill.messages.length > 0) setMessages(prefill.messages.map(editable));
      setSettings(settingsFrom(prefill, provider));
    } else setSettings((s) => ({ ...s, provider }));
  }, [providers.data, prefill, providerNames, spanId, traceId, spanResult.isLoading, logs.isLoading]);
  useEffect(() => () => running.current?.abort(), []);

  const models = useQuery({
    queryKey: ['llm-models', settings.provider],
    queryFn: () => listLlmModels(settings.provider),
    enabled: settings.provider !== '',
    retry: false,
  });
  const modelChoices = useMemo(() => {
    const ids = models.data?.models.map((m) => m.id) ?? [];
    // The span's own model is always offered, listed by the provider or not.
    return prefill?.model && !ids.includes(prefill.model) ? [prefill.model, ...ids] : ids;
  }, [models.data, prefill]);
  const refreshModels = async () => {
    const fresh = await listLlmModels(settings.provider, true).catch(() => null);
    if (fresh) queryClient.setQueryData(['llm-models', settings.provider], fresh);
  };

  const original: Answer | null = prefill
    ? {
        id: ORIGINAL,
        label: 'Original (from the span)',
        model: prefill.model,
        output: prefill.original.output ?? '',
        status: 'done',
        error: null,
        latencyMs: prefill.original.latencyMs,
        tokensIn: prefill.original.tokensIn,
        tokensOut: prefill.original.tokensOut,
        finishReason: prefill.original.finishReason,
      }
    : null;
  const answers = original ? [original, ...runs] : runs;

  const run = async () => {
    const built = toRequest(settings);
    if ('problem' in built) return setProblem(built.problem);
    if (messages.length === 0) return setProblem('Add at least one message');
    setProblem(null);
    const id = `run-${runs.length + 1}`;
    const update = (patch: Partial<Answer> | ((a: Answer) => Partial<Answer>)) =>
      setRuns((all) =>
        all.map((a) => (a.id === id ? { ...a, ...(typeof patch === 'function' ? patch(a) : patch) } : a)),
      );
    setRuns((all) => [
      ...all,
      {
        id,
        label: `Run ${all.length + 1} · ${built.params.model}`,
        model: built.params.model,
        output: '',
        status: 'streaming',
        error: null,
        latencyMs: null,
        tokensIn: null,
        tokensOut: null,
        finishReason: null,
      },
    ]);
    setPick((p) => ({ left: p.left || (original ? ORIGINAL : id), right: id }));
    const controller = new AbortController();
    running.current = controller;
    try {
      await streamGeneration(
        { ...built.params, messages: messages.map(({ role, content }) => ({ role, content })) },
        {
          onText: (text) => update((a) => ({ output: a.output + text })),
          onSummary: (s) =>
            update({
              latencyMs: s.latency_ms,
              tokensIn: s.usage?.prompt_tokens ?? null,
              tokensOut: s.usage?.completion_tokens ?? null,
              finishReason: s.finish_reason,
              model: s.model ?? built.params.model,
            }),
        },
        controller.signal,
      );
      update({ status: 'done' });
    } catch (error) {
      update({ status: 'error', error: errorText(error) });
    } finally {
      if (running.current === controller) running.current = null;
    }
  };
  const streaming = runs.some((r) => r.status === 'streaming');

  if (providers.isLoading || (traceId && spanResult.isLoading))
    return <Loading label="Loading the playground" />;
  return (
    <div className="page page-wide playground-page">
      <div className="page-head">
        <div className="page-head-row">
          <h1>Prompt playground</h1>
          {span && (
            <span className="muted">
              from span <Link to={paths.trace(span.trace_id, span.span_id)}>{span.name || span.span_id}</Link>
              {prefill?.source && (
                <>
                  {' '}
                  · prompt read from <code>{prefill.source}</code>
                </>
              )}
            </span>
          )}
        </div>
      </div>
      {providers.error && <ErrorNotice error={providers.error} retry={() => void providers.refetch()} />}
      {spanResult.error && !spanMissing && (
        <ErrorNotice error={spanResult.error} title="The span could not be loaded" />
      )}
      {spanMissing && (
        <p className="notice notice-warn">
          Span {spanId} is not in trace {traceId} (yet): starting from an empty prompt.
        </p>
      )}
      {prefill && prefill.messages.length === 0 && (
        <p className="notice notice-warn">
          This span carries no prompt messages that the playground can read.
        </p>
      )}
      {providers.data && providerNames.length === 0 && (
        <div className="notice notice-warn" role="alert" data-testid="no-providers">
          <strong>No LLM provider is configured.</strong>
          <span>
            Set <code>{providers.data.setting}</code> on the server, e.g.{' '}
            <code>{providers.data.setting}=openai=https://api.openai.com/v1</code>, with the key in{' '}
            <code>JUNJO_LLM_KEY_OPENAI</code>, and restart it.
          </span>
        </div>
      )}
      <div className="pg-layout">
        <div className="pg-editor card">
          <h2>Prompt</h2>
          <MessageEditor messages={messages} onChange={setMessages} />
        </div>
        <div className="pg-side card">
          <SettingsForm
            settings={settings}
            onChange={setSettings}
            providers={providerNames}
            models={modelChoices}
            modelsError={models.error ? errorText(models.error) : null}
            onRefreshModels={() => void refreshModels()}
          />
          {problem && <p className="form-error">{problem}</p>}
          <div className="pg-run-row">
            <button
              type="button"
              className="primary"
              disabled={streaming || providerNames.length === 0}
              onClick={() => void run()}
            >
              {streaming ? 'Running…' : 'Run'}
            </button>
            {streaming && (
              <button type="button" onClick={() => running.current?.abort()}>
                Stop
              </button>
            )}
          </div>
        </div>
      </div>
      {answers.length > 0 && (
        <RunComparison
          answers={answers}
          leftId={pick.left || (answers[0]?.id ?? '')}
          rightId={pick.right || (answers.at(-1)?.id ?? '')}
          onPick={(side, id) => setPick((p) => ({ ...p, [side]: id }))}
        />
      )}
    </div>
  );
}
