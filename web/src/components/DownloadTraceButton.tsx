// Saves the whole trace as an OTLP/JSON file (GET /otel/trace/{id}/otlp) to attach to a bug report;
// posting it to another server's /v1/traces reproduces the trace. The server names the file.
export function DownloadTraceButton({ traceId }: { traceId: string }) {
  const download = () => window.location.assign(`/otel/trace/${encodeURIComponent(traceId)}/otlp`);
  return (
    <button type="button" className="small" onClick={download} title="Download this trace as OTLP/JSON">
      Download OTLP
    </button>
  );
}
