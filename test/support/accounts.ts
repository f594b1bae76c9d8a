// Drives the accounts API like the web UI does: first-user setup, sign-in, CSRF token, API keys.
export interface Session {
  baseUrl: string;
  cookie: string;
  csrfToken: string;
  request(method: string, path: string, body?: unknown): Promise<Response>;
}

const cookieJar = (response: Response, jar: Map<string, string>) => {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...value] = (pair ?? '').split('=');
    if (name) jar.set(name.trim(), value.join('='));
  }
};

export async function signIn(
  baseUrl: string,
  email = 'admin@example.com',
  password = 'correct horse battery staple',
): Promise<Session> {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const has = await fetch(`${baseUrl}/users/db-has-users`);
  if (!((await has.json()) as { usersExist: boolean }).usersExist) {
    const created = await fetch(`${baseUrl}/users/create-first-user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (!created.ok) throw new Error(`first-user setup failed: ${created.status} ${await created.text()}`);
  }
  const signedIn = await fetch(`${baseUrl}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!signedIn.ok) throw new Error(`sign-in failed: ${signedIn.status} ${await signedIn.text()}`);
  cookieJar(signedIn, jar);
  const csrf = await fetch(`${baseUrl}/csrf`, { headers: { cookie: cookie() } });
  cookieJar(csrf, jar);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const session: Session = {
    baseUrl,
    csrfToken,
    get cookie() {
      return cookie();
    },
    async request(method, path, body) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          cookie: cookie(),
          'x-csrf-token': csrfToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      cookieJar(response, jar);
      return response;
    },
  };
  return session;
}

/** Creates an API key and returns it in full (the only time the server shows it). */
export async function createApiKey(
  session: Session,
  name = 'test key',
): Promise<{ id: string; key: string }> {
  const response = await session.request('POST', '/api_keys', { name });
  if (response.status !== 201)
    throw new Error(`key creation failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; key: string };
}
