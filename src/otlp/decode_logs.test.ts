// The logs decoders (protobuf and OTLP/JSON) against requests encoded by protobufjs from the project's
// .proto files and by the stock OpenTelemetry JS serializers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { decodeLogsRequest } from './decode.ts';
import { bytesToHex } from './hex.ts';
import { otlpProtoTypes } from './proto_root.ts';
import { type ExportLogsRequest, OtlpDecodeError } from './types.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

function protobufRequest(): Uint8Array {
  const types = otlpProtoTypes();
  return types.exportLogsRequest
    .encode({
      resource_logs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
          scope_logs: [
            {
              scope: { name: 'scope', version: '1' },
              log_records: [
                {
                  time_unix_nano: { low: 0x499602d2, high: 0x18f0c4a1 },
                  observed_time_unix_nano: { low: 0x499602d3, high: 0x18f0c4a1 },
                  severity_number: 17,
                  severity_text: 'ERROR',
                  body: { kvlist_value: { values: [{ key: 'content', value: { string_value: 'hi ✓' } }] } },
                  attributes: [{ key: 'n', value: { int_value: { low: -1, high: -1 } } }],
                  dropped_attributes_count: 2,
                  flags: 1,
                  trace_id: Buffer.from(TRACE_ID, 'hex'),
                  span_id: Buffer.from(SPAN_ID, 'hex'),
                  event_name: 'gen_ai.user.message',
                },
              ],
            },
          ],
        },
      ],
    })
    .finish();
}

const idsOf = (request: ExportLogsRequest) =>
  request.resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => [bytesToHex(r.traceId), bytesToHex(r.spanId)])),
  );

describe('decodeLogsRequest', () => {
  test('protobuf: every LogRecord field, 64-bit times exact', () => {
    const decoded = decodeLogsRequest(protobufRequest(), 'protobuf');
    const [resourceLogs] = decoded.resourceLogs;
    assert.deepEqual(resourceLogs?.resource?.attributes, [
      { key: 'service.name', value: { type: 'string', value: 'svc' } },
    ]);
    const record = resourceLogs?.scopeLogs[0]?.logRecords[0];
    assert.ok(record);
    assert.equal(record.timeUnixNano, (0x18f0c4a1n << 32n) | 0x499602d2n);
    assert.equal(record.observedTimeUnixNano, (0x18f0c4a1n << 32n) | 0x499602d3n);
    assert.equal(record.severityNumber, 17);
    assert.equal(record.severityText, 'ERROR');
    assert.deepEqual(record.body, {
      type: 'kvlist',
      value: [{ key: 'content', value: { type: 'string', value: 'hi ✓' } }],
    });
    assert.deepEqual(record.attributes, [{ key: 'n', value: { type: 'int', value: -1n } }]);
    assert.equal(record.droppedAttributesCount, 2);
    assert.equal(record.flags, 1);
    assert.deepEqual(idsOf(decoded), [[TRACE_ID, SPAN_ID]]);
    assert.equal(record.eventName, 'gen_ai.user.message');
  });

  test('OTLP/JSON: hex ids, severity by name or number, times as strings or numbers, no body', () => {
    const json = JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '1749000000123456789',
                  severityNumber: 'SEVERITY_NUMBER_WARN2',
                  traceId: TRACE_ID,
                  spanId: SPAN_ID,
                  eventName: 'gen_ai.choice',
                },
                { observedTimeUnixNano: 5, severityNumber: 9, body: { stringValue: 'plain' } },
              ],
            },
          ],
        },
      ],
    });
    const decoded = decodeLogsRequest(Buffer.from(json), 'json');
    const [first, second] = decoded.resourceLogs[0]?.scopeLogs[0]?.logRecords ?? [];
    assert.equal(first?.timeUnixNano, 1749000000123456789n);
    assert.equal(first?.severityNumber, 14);
    assert.equal(first?.body, null);
    assert.equal(first?.eventName, 'gen_ai.choice');
    assert.deepEqual(idsOf(decoded)[0], [TRACE_ID, SPAN_ID]);
    assert.equal(second?.observedTimeUnixNano, 5n);
    assert.deepEqual(second?.body, { type: 'string', value: 'plain' });
    assert.equal(second?.traceId.length, 0);
  });

  test('the stock OpenTelemetry JS serializers decode to the same records in both encodings', async () => {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
    const ctx = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    provider.getLogger('test').emit({
      context: ctx,
      eventName: 'gen_ai.user.message',
      body: { content: 'Say hello', nested: [1, true, null] },
      attributes: { 'gen_ai.system': 'openai' },
    });
    await provider.forceFlush();
    const records = memory.getFinishedLogRecords();
    const fromProtobuf = decodeLogsRequest(ProtobufLogsSerializer.serializeRequest(records)!, 'protobuf');
    const fromJson = decodeLogsRequest(JsonLogsSerializer.serializeRequest(records)!, 'json');
    assert.deepEqual(idsOf(fromProtobuf), [[TRACE_ID, SPAN_ID]]);
    const strip = (request: ExportLogsRequest) =>
      JSON.stringify(request, (_key, value) =>
        typeof value === 'bigint'
          ? value.toString()
          : value instanceof Uint8Array
            ? bytesToHex(value)
            : value,
      );
    assert.equal(strip(fromJson), strip(fromProtobuf));
    const record = fromJson.resourceLogs[0]?.scopeLogs[0]?.logRecords[0];
    assert.equal(record?.eventName, 'gen_ai.user.message');
    assert.equal(record?.body?.type, 'kvlist');
  });

  test('malformed bodies are refused as invalid input, naming the logs request', () => {
    assert.throws(
      () => decodeLogsRequest(Uint8Array.from([0x0a, 0x05, 0x12]), 'protobuf'),
      (error: unknown) => error instanceof OtlpDecodeError && /ExportLogsServiceRequest/.test(error.message),
    );
    assert.throws(() => decodeLogsRequest(Buffer.from('{"resourceLogs":{}}'), 'json'), OtlpDecodeError);
    assert.throws(
      () =>
        decodeLogsRequest(
          Buffer.from('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}'),
          'json',
        ),
      OtlpDecodeError,
    );
  });
});
