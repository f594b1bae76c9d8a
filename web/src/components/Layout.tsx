// The frame around every signed-in page: brand, main navigation, theme switch, account.
import { NavLink, Outlet } from 'react-router';
import { useAuth } from '../auth/AuthProvider.tsx';
import { paths } from '../paths.ts';
import { IndexingStatus } from './IndexingStatus.tsx';
import { ThemeToggle } from './ThemeToggle.tsx';

export function Layout() {
  const { status, signOut } = useAuth();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to={paths.services()} className="brand" aria-label="Junjo Server home">
          <span className="brand-mark" aria-hidden="true">
            J
          </span>
          Junjo Server
        </NavLink>
        <nav aria-label="Main">
          <NavLink to={paths.services()}>Services</NavLink>
          <NavLink to={paths.search()}>Search</NavLink>
          <NavLink to={paths.playground()}>Playground</NavLink>
          <NavLink to={paths.apiKeys()}>API keys</NavLink>
          <NavLink to={paths.users()}>Users</NavLink>
        </nav>
        <div className="topbar-end">
          <IndexingStatus />
          <ThemeToggle />
          {status.kind === 'signed-in' && (
            <span className="muted account" title="Signed in">
              {status.email}
            </span>
          )}
          <button type="button" className="ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
