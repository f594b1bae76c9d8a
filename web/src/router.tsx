// Every view has its own URL, so any of them can be bookmarked, shared or reloaded.
import type { QueryClient } from '@tanstack/react-query';
import { createBrowserRouter, type LoaderFunctionArgs, Navigate } from 'react-router';
import { compactTraceQuery, waterfallTraceQuery } from './api/queries.ts';
import { RequireAuth } from './auth/RequireAuth.tsx';
import { SetupPage } from './auth/SetupPage.tsx';
import { SignInPage } from './auth/SignInPage.tsx';
import { Layout } from './components/Layout.tsx';
import { Loading } from './components/status.tsx';
import { ApiKeysPage } from './pages/ApiKeysPage.tsx';
import { NotFoundPage, RouteErrorPage } from './pages/ErrorPages.tsx';
import { SearchPage } from './pages/SearchPage.tsx';
import { ServicesPage } from './pages/ServicesPage.tsx';
import { TracePage } from './pages/TracePage.tsx';
import { TracesPage } from './pages/TracesPage.tsx';
import { UsersPage } from './pages/UsersPage.tsx';
import { WorkflowRunsPage } from './pages/WorkflowRunsPage.tsx';
import { paths } from './paths.ts';

export function createAppRouter(queryClient: QueryClient) {
  // A trace's spans are requested as soon as the URL is known, in parallel with the session check
  // and the page's code, instead of after the page has rendered.
  // Loaders only start work; stepping through a run (search params) must not re-run them.
  const prefetchOnce = (prefetch: (traceId: string) => Promise<void>) => ({
    loader: ({ params }: LoaderFunctionArgs) => {
      if (params.traceId) void prefetch(params.traceId);
      return null;
    },
    shouldRevalidate: () => false,
  });
  return createBrowserRouter([
    { path: '/sign-in', element: <SignInPage />, errorElement: <RouteErrorPage /> },
    { path: '/setup', element: <SetupPage />, errorElement: <RouteErrorPage /> },
    {
      path: '/',
      element: (
        <RequireAuth>
          <Layout />
        </RequireAuth>
      ),
      errorElement: <RouteErrorPage />,
      hydrateFallbackElement: <Loading label="Loading" fullPage />,
      children: [
        { index: true, element: <Navigate to={paths.services()} replace /> },
        { path: 'services', element: <ServicesPage /> },
        { path: 'services/:service/workflows', element: <WorkflowRunsPage /> },
        {
          path: 'services/:service/workflows/:traceId/:spanId',
          ...prefetchOnce((id) => queryClient.prefetchQuery(compactTraceQuery(id))),
          // The graph libraries are the heaviest part of the UI: loaded with the debugger only.
          lazy: async () => ({ Component: (await import('./pages/WorkflowPage.tsx')).default }),
        },
        {
          path: 'services/:service/overview',
          // The chart library comes with the page only.
          lazy: async () => ({ Component: (await import('./pages/OverviewPage.tsx')).default }),
        },
        {
          path: 'services/:service/compare',
          lazy: async () => ({ Component: (await import('./pages/CompareRunsPage.tsx')).default }),
        },
        { path: 'services/:service/traces', element: <TracesPage /> },
        {
          path: 'traces/:traceId',
          ...prefetchOnce((id) => queryClient.prefetchQuery(waterfallTraceQuery(id))),
          element: <TracePage />,
        },
        { path: 'search', element: <SearchPage /> },
        {
          path: 'playground',
          lazy: async () => ({ Component: (await import('./pages/PlaygroundPage.tsx')).PlaygroundPage }),
        },
        { path: 'settings/api-keys', element: <ApiKeysPage /> },
        { path: 'settings/users', element: <UsersPage /> },
        { path: '*', element: <NotFoundPage /> },
      ],
    },
  ]);
}
