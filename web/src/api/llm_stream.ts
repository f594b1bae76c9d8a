// POST /llm/generate with stream=true, read as server-sent events: each chunk's text as it arrives,
// then the summary (latency, usage, finish reason), or the error that ended the stream.
import { api } from './client.ts';
import type { GenerateRequest, StreamSummary } from './types.ts';

export interface StreamHandlers {
  onText(text: string): void;
  onSummary(summary: StreamSummary): void;
}

/** Resolves when the stream ends; rejects with the server's message when it ends in an error. */
export async function streamGeneration(
  request: Omit<GenerateRequest, 'stream'>,
  handlers: StreamHandlers,
  signal?: AbortSignal,
): Promise<void> {
  const response = await api.postForStream('/llm/generate', { ...request, stream: true }, { signal });
  if (!response.body) throw new Error('The server sent no stream');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let finished = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      finished = handleEvent(block, handlers) || finished;
    }
  }
  if (!finished) throw new Error('The answer stopped before it was complete');
}

/** Handles one event; true when it was the last one ([DONE]). */
function handleEvent(block: string, handlers: StreamHandlers): boolean {
  const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
  const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
  if (event === 'error') throw new Error((JSON.parse(data) as { message: string }).message);
  if (event === 'summary') {
    handlers.onSummary(JSON.parse(data) as StreamSummary);
    return false;
  }
  if (data === '[DONE]') return true;
  const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string | null } }> };
  const text = chunk.choices?.map((c) => c.delta?.content ?? '').join('') ?? '';
  if (text) handlers.onText(text);
  return false;
}
