// The first script of the page, and a small one: on a trace or workflow page it asks for the
// trace straight away, so the server reads it while the browser loads, parses and starts the app
// (most of a second on a busy machine). The app's own request for it takes that answer
// (api/client.ts requestEarly). The patterns mirror the routes in router.tsx.
import { requestEarly } from './api/client.ts';
import { compactTracePath } from './api/endpoints.ts';

const TRACE_PAGE = /^\/traces\/([^/]+)\/?$/;
const WORKFLOW_PAGE = /^\/services\/[^/]+\/workflows\/([^/]+)\/[^/]+\/?$/;

/** A path segment as the router hands it to the page (decoded), or null when it cannot be decoded. */
function segment(raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

const { pathname } = window.location;
const traceOnTracePage = segment(TRACE_PAGE.exec(pathname)?.[1]);
const traceOnWorkflowPage = segment(WORKFLOW_PAGE.exec(pathname)?.[1]);
if (traceOnTracePage) requestEarly(compactTracePath(traceOnTracePage, 'waterfall'));
else if (traceOnWorkflowPage) requestEarly(compactTracePath(traceOnWorkflowPage));
