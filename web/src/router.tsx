// Every view has its own URL, so any of them can be bookmarked, shared or reloaded.
import { lazy, Suspense } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { RequireAuth } from './auth/RequireAuth.tsx';
import { SetupPage } from './auth/SetupPage.tsx';
import { SignInPage } from './auth/SignInPage.tsx';
import { Layout } from './components/Layout.tsx';
import { Loading } from './components/status.tsx';
import { ApiKeysPage } from './pages/ApiKeysPage.tsx';
import { NotFoundPage, RouteErrorPage } from './pages/ErrorPages.tsx';
import { ServicesPage } from './pages/ServicesPage.tsx';
import { TracePage } from './pages/TracePage.tsx';
import { TracesPage } from './pages/TracesPage.tsx';
import { UsersPage } from './pages/UsersPage.tsx';
import { WorkflowRunsPage } from './pages/WorkflowRunsPage.tsx';
import { paths } from './paths.ts';

// The graph libraries are the heaviest part of the UI: load them with the debugger only.
const WorkflowPage = lazy(() => import('./pages/WorkflowPage.tsx'));

export function createAppRouter() {
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
      children: [
        { index: true, element: <Navigate to={paths.services()} replace /> },
        { path: 'services', element: <ServicesPage /> },
        { path: 'services/:service/workflows', element: <WorkflowRunsPage /> },
        {
          path: 'services/:service/workflows/:traceId/:spanId',
          element: (
            <Suspense fallback={<Loading label="Loading the debugger" />}>
              <WorkflowPage />
            </Suspense>
          ),
        },
        { path: 'services/:service/traces', element: <TracesPage /> },
        { path: 'traces/:traceId', element: <TracePage /> },
        { path: 'settings/api-keys', element: <ApiKeysPage /> },
        { path: 'settings/users', element: <UsersPage /> },
        { path: '*', element: <NotFoundPage /> },
      ],
    },
  ]);
}
