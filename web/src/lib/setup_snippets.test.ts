import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_PLACEHOLDER, setupSnippets } from './setup_snippets.ts';

const target = { host: 'junjo.local', grpcPort: 50051, httpPort: 4318 };

test('a new key goes into the environment line; the code reads it from the environment', () => {
  const key = 'k'.repeat(64);
  const [junjo, otelPython, otelEnv] = setupSnippets({ ...target, apiKey: key });
  assert.equal(junjo!.env, `export JUNJO_SERVER_API_KEY="${key}"`);
  assert.doesNotMatch(junjo!.code, new RegExp(key), 'the key is not pasted into source code');
  assert.match(junjo!.code, /JunjoServerOtelExporter\(\n\s+host="junjo\.local",\n\s+port="50051",/);
  assert.match(junjo!.code, /insecure=True/);
  assert.match(otelPython!.code, /endpoint="junjo\.local:50051"/);
  assert.match(otelPython!.code, /"x-junjo-api-key"/);
  assert.match(otelEnv!.code, /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http:\/\/junjo\.local:4318\/v1\/traces"/);
  assert.match(otelEnv!.code, new RegExp(`x-junjo-api-key=${key}`));
});

test('without a key (the key is only shown once) a placeholder stands in', () => {
  for (const snippet of setupSnippets({ ...target, apiKey: null })) {
    assert.ok(`${snippet.env ?? ''}${snippet.code}`.includes(KEY_PLACEHOLDER), snippet.id);
  }
});
