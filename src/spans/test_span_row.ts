// A span row for tests that only care about a few columns: the rest hold the empty values a plain
// (non-Junjo) span gets from the span processor.
import type { SpanRow } from './rows.ts';

export function testSpanRow(
  fields: Partial<SpanRow> & Pick<SpanRow, 'trace_id' | 'span_id' | 'service_name' | 'start_time'>,
): SpanRow {
  return {
    parent_span_id: null,
    name: 'span',
    kind: 'INTERNAL',
    end_time: fields.start_time + 1_000_000n,
    status_code: 'STATUS_CODE_UNSET',
    status_message: '',
    attributes_json: '{}',
    events_json: '[]',
    links_json: '[]',
    trace_flags: 1,
    trace_state: null,
    junjo_id: '',
    junjo_parent_id: '',
    junjo_span_type: '',
    junjo_wf_state_start: '{}',
    junjo_wf_state_end: '{}',
    junjo_wf_graph_structure: '{}',
    junjo_wf_store_id: '',
    ...fields,
  };
}
