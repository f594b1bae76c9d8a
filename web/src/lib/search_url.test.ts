import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attrsFromLines,
  emptySearchForm,
  formFromParams,
  localInputToRfc3339,
  paramsFromForm,
  rfc3339ToLocalInput,
  searchApiQuery,
} from './search_url.ts';

test('a search URL reads into the form and back, keeping repeated filters in order', () => {
  const url =
    'service=shop&name=call+llm&type=node&status=error&min_ms=5&max_ms=90&last=1h&attr=tokens+%3E+10&attr=user+contains+ann&q=gemini';
  const form = formFromParams(new URLSearchParams(url));
  assert.deepEqual(form, {
    service: 'shop',
    name: 'call llm',
    type: 'node',
    errorsOnly: true,
    minMs: '5',
    maxMs: '90',
    range: { last: '1h' },
    attrs: ['tokens > 10', 'user contains ann'],
    q: 'gemini',
  });
  assert.equal(paramsFromForm(form).toString(), url);
});

test('absolute bounds are kept when there is no relative range; without either, the last 24 hours', () => {
  const absolute = formFromParams(new URLSearchParams('service=s&from=2026-01-01T00:00:00Z'));
  assert.deepEqual(absolute.range, { from: '2026-01-01T00:00:00Z', to: '' });
  assert.equal(paramsFromForm(absolute).toString(), 'service=s&from=2026-01-01T00%3A00%3A00Z');
  assert.deepEqual(formFromParams(new URLSearchParams('service=s')).range, { last: '24h' });
  assert.deepEqual(formFromParams(new URLSearchParams('service=s&last=7d&from=x')).range, { last: '7d' });
  assert.deepEqual(formFromParams(new URLSearchParams('service=s&last=2y')).range, { last: '24h' });
});

test('the API query drops empty and unknown parameters', () => {
  const query = searchApiQuery(
    new URLSearchParams('service=s&name=&q=+&attr=&attr=a+exists&page=3&status=ok'),
  );
  assert.equal(query.toString(), 'service=s&last=24h&attr=a+exists');
  assert.equal(paramsFromForm(emptySearchForm('x')).toString(), 'service=x&last=24h');
});

test('attribute filters are one per line; datetime inputs convert to RFC 3339 and back', () => {
  assert.deepEqual(attrsFromLines(' a = 1 \n\n b exists\n'), ['a = 1', 'b exists']);
  const rfc = localInputToRfc3339('2026-03-04T05:06');
  assert.equal(rfc3339ToLocalInput(rfc), '2026-03-04T05:06');
  assert.equal(localInputToRfc3339(''), '');
  assert.equal(rfc3339ToLocalInput('nonsense'), '');
});
