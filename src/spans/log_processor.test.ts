import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExportLogsRequest, LogRecord } from '../otlp/types.ts';
import { processLogsRequest } from './log_processor.ts';

const record = (overrides: Partial<LogRecord> = {}): LogRecord => ({
  timeUnixNano: 1_749_000_000_123_456_789n,
  observedTimeUnixNano: 1_749_000_000_200_000_000n,
  severityNumber: 9,
  severityText: 'INFO',
  body: { type: 'kvlist', value: [{ key: 'content', value: { type: 'string', value: 'hi' } }] },
  attributes: [{ key: 'event.name', value: { type: 'string', value: 'gen_ai.user.message' } }],
  droppedAttributesCount: 0,
  flags: 1,
  traceId: Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex'),
  spanId: Buffer.from('00f067aa0ba902b7', 'hex'),
  eventName: '',
  ...overrides,
});

const request = (records: LogRecord[]): ExportLogsRequest => ({
  resourceLogs: [
    {
      resource: {
        attributes: [{ key: 'service.name', value: { type: 'string', value: 'app' } }],
        droppedAttributesCount: 0,
      },
      scopeLogs: [{ scope: null, logRecords: records, schemaUrl: '' }],
      schemaUrl: '',
    },
  ],
});

describe('processLogsRequest', () => {
  test('a record of a span becomes a row: microsecond times, JSON body and attributes, event name from the attribute', () => {
    const { logRecords, rejected } = processLogsRequest(request([record()]));
    assert.equal(rejected.count, 0);
    const [row] = logRecords;
    assert.deepEqual(
      { ...row, log_id: undefined },
      {
        log_id: undefined,
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: '00f067aa0ba902b7',
        service_name: 'app',
        time: 1_749_000_000_123_456n,
        observed_time: 1_749_000_000_200_000n,
        sequence: 0,
        severity_number: 9,
        severity_text: 'INFO',
        event_name: 'gen_ai.user.message',
        body_json: '{"content":"hi"}',
        attributes_json: '{"event.name":"gen_ai.user.message"}',
      },
    );
    assert.match(row?.log_id ?? '', /^[0-9a-f]{64}$/);
  });

  test('the id is the same for the same record, and differs when anything stored differs', () => {
    const id = (r: LogRecord) => processLogsRequest(request([r])).logRecords[0]?.log_id;
    assert.equal(id(record()), id(record()));
    assert.notEqual(id(record()), id(record({ eventName: 'gen_ai.choice' })));
    assert.notEqual(id(record()), id(record({ timeUnixNano: 1_749_000_000_123_456_790n })));
  });

  test('a record without span ids is rejected and named; a record without a time takes its observed time', () => {
    const { logRecords, rejected } = processLogsRequest(
      request([record({ spanId: Buffer.alloc(0) }), record({ timeUnixNano: 0n, body: null })]),
    );
    assert.equal(rejected.count, 1);
    assert.match(rejected.errors[0] ?? '', /log record 0 of resource 0: no trace_id\/span_id/);
    assert.equal(logRecords[0]?.time, 1_749_000_000_200_000n);
    assert.equal(logRecords[0]?.body_json, 'null');
    assert.equal(logRecords[0]?.sequence, 1);
  });

  test('invalid ids are rejected one by one', () => {
    const { logRecords, rejected } = processLogsRequest(
      request([
        record({ traceId: Buffer.alloc(16) }),
        record({ spanId: Buffer.from('00ff', 'hex') }),
        record(),
      ]),
    );
    assert.equal(logRecords.length, 1);
    assert.equal(rejected.count, 2);
    assert.match(rejected.errors.join('\n'), /trace_id is all zeroes[\s\S]*span_id has 2 bytes/);
  });
});
