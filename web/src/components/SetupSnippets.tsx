// How to point an application at this server, for the Junjo SDK and for any OpenTelemetry SDK.
import { useId, useState } from 'react';
import { setupSnippets } from '../lib/setup_snippets.ts';
import { CodeBlock } from './CodeBlock.tsx';

// The OTLP receivers listen on fixed ports next to this UI's host (JUNJO_OTLP_*_PORT on the server).
const GRPC_PORT = 50051;
const HTTP_PORT = 4318;

export function SetupSnippets({ apiKey }: { apiKey: string | null }) {
  const snippets = setupSnippets({
    host: window.location.hostname,
    grpcPort: GRPC_PORT,
    httpPort: HTTP_PORT,
    apiKey,
  });
  const [selected, setSelected] = useState(snippets[0]!.id);
  // the guide can be on the page twice (the API keys page and its new-key dialog)
  const id = useId();
  const snippet = snippets.find((s) => s.id === selected) ?? snippets[0]!;
  return (
    <section className="snippets" aria-label="Exporter setup">
      <div className="segmented" role="tablist" aria-label="SDK">
        {snippets.map((s) => (
          <button
            key={s.id}
            type="button"
            role="tab"
            id={`${id}-tab-${s.id}`}
            aria-selected={s.id === selected}
            aria-controls={`${id}-panel`}
            onClick={() => setSelected(s.id)}
          >
            {s.title}
          </button>
        ))}
      </div>
      <div id={`${id}-panel`} role="tabpanel" aria-labelledby={`${id}-tab-${snippet.id}`}>
        <p className="muted">{snippet.note}</p>
        {snippet.env && <CodeBlock code={snippet.env} />}
        <CodeBlock code={snippet.code} />
      </div>
    </section>
  );
}
