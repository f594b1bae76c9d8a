// Ready-to-paste exporter setup for pointing an application at this server (telemetry.md §1).

export interface SnippetTarget {
  /** host name the application uses to reach this server */
  host: string;
  grpcPort: number;
  httpPort: number;
  /** the API key, or a placeholder when it is not known (the key is shown only once) */
  apiKey: string | null;
}

export interface Snippet {
  id: string;
  title: string;
  language: 'python' | 'shell';
  note: string;
  /** a shell line to run first (the key goes in the environment, not the code) */
  env: string | null;
  code: string;
}

export const KEY_PLACEHOLDER = '<your API key>';

export function setupSnippets(target: SnippetTarget): Snippet[] {
  const key = target.apiKey ?? KEY_PLACEHOLDER;
  const envLine = `export JUNJO_SERVER_API_KEY="${key}"`;
  return [
    {
      id: 'junjo',
      title: 'Junjo Python SDK',
      language: 'python',
      note: `Sends spans over OTLP/gRPC to port ${target.grpcPort}. Put the key in the environment, not in your code:`,
      env: envLine,
      code: `import os

from junjo.telemetry.junjo_server_otel_exporter import JunjoServerOtelExporter
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

resource = Resource.create({"service.name": "my-ai-workflow"})
tracer_provider = TracerProvider(resource=resource)

junjo_exporter = JunjoServerOtelExporter(
    host="${target.host}",
    port="${target.grpcPort}",
    api_key=os.environ["JUNJO_SERVER_API_KEY"],
    insecure=True,  # False when a TLS proxy sits in front of the server
)
tracer_provider.add_span_processor(junjo_exporter.span_processor)
trace.set_tracer_provider(tracer_provider)

# Flush before the process exits:
# tracer_provider.shutdown()
`,
    },
    {
      id: 'otel-python',
      title: 'OpenTelemetry Python (gRPC)',
      language: 'python',
      note: 'The stock OTLP exporter; the API key travels in the x-junjo-api-key header:',
      env: envLine,
      code: `import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

exporter = OTLPSpanExporter(
    endpoint="${target.host}:${target.grpcPort}",
    insecure=True,
    headers=(("x-junjo-api-key", os.environ["JUNJO_SERVER_API_KEY"]),),
)
tracer_provider = TracerProvider(resource=Resource.create({"service.name": "my-service"}))
tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
trace.set_tracer_provider(tracer_provider)
`,
    },
    {
      id: 'otel-env',
      title: 'Any OpenTelemetry SDK (OTLP/HTTP)',
      language: 'shell',
      note: 'Standard OTLP environment variables, understood by the SDKs of every language:',
      env: null,
      code: `export OTEL_SERVICE_NAME="my-service"
export OTEL_TRACES_EXPORTER="otlp"
export OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/protobuf"
export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://${target.host}:${target.httpPort}/v1/traces"
export OTEL_EXPORTER_OTLP_TRACES_HEADERS="x-junjo-api-key=${key}"

# or OTLP/gRPC:
# export OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc"
# export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://${target.host}:${target.grpcPort}"
`,
    },
  ];
}
