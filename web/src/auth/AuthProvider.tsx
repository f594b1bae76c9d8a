// Who is signed in. Asks the server once at start-up, and switches to "signed out" whenever any
// request answers 401 (an expired or ended session), which sends the user to the sign-in page.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, onUnauthorized, resetCsrfToken } from '../api/client.ts';
import * as endpoints from '../api/endpoints.ts';

export type AuthStatus =
  | { kind: 'checking' }
  | { kind: 'signed-in'; email: string }
  | { kind: 'signed-out'; usersExist: boolean; setupTokenRequired: boolean }
  | { kind: 'unreachable'; error: Error };

interface AuthContextValue {
  status: AuthStatus;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  /** `setupToken`: the one-time token from the server log, needed when setting up from another machine. */
  createFirstUser(email: string, password: string, setupToken?: string): Promise<void>;
  recheck(): void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

async function probe(): Promise<AuthStatus> {
  try {
    const me = await endpoints.whoAmI();
    return { kind: 'signed-in', email: me.userEmail };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      return { kind: 'unreachable', error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
  try {
    const { usersExist, setupTokenRequired } = await endpoints.hasUsers();
    return { kind: 'signed-out', usersExist, setupTokenRequired };
  } catch (error) {
    return { kind: 'unreachable', error: error instanceof Error ? error : new Error(String(error)) };
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<AuthStatus>({ kind: 'checking' });

  const recheck = useCallback(() => {
    setStatus({ kind: 'checking' });
    probe().then(setStatus);
  }, []);

  useEffect(() => {
    let active = true;
    probe().then((next) => active && setStatus(next));
    return () => {
      active = false;
    };
  }, []);

  useEffect(
    () =>
      onUnauthorized(() => {
        resetCsrfToken();
        setStatus((current) =>
          current.kind === 'signed-in'
            ? { kind: 'signed-out', usersExist: true, setupTokenRequired: false }
            : current,
        );
      }),
    [],
  );

  const signIn = useCallback(
    async (email: string, password: string) => {
      await endpoints.signIn(email, password);
      resetCsrfToken();
      queryClient.clear();
      const me = await endpoints.whoAmI();
      setStatus({ kind: 'signed-in', email: me.userEmail });
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    try {
      await endpoints.signOut();
    } finally {
      resetCsrfToken();
      setStatus({ kind: 'signed-out', usersExist: true, setupTokenRequired: false });
      queryClient.clear();
    }
  }, [queryClient]);

  const createFirstUser = useCallback(
    async (email: string, password: string, setupToken?: string) => {
      await endpoints.createFirstUser(email, password, setupToken);
      await signIn(email, password);
    },
    [signIn],
  );

  const value = useMemo(
    () => ({ status, signIn, signOut, createFirstUser, recheck }),
    [status, signIn, signOut, createFirstUser, recheck],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
