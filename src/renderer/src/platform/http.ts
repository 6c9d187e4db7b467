/**
 * One request to the serve process (the browser build): its JSON answer, or an error in the server's
 * words. Apart from api.ts (and without zod) so that the page's first task can ask for the model list.
 */
export async function request(path: string, init?: RequestInit): Promise<unknown> {
  const response = await fetch(path, init);
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new Error(`${path}: the server answered ${response.status} with a body that is not JSON`);
  }
  if (!response.ok) {
    const message = body !== null && typeof body === 'object' && 'error' in body ? String(body.error) : response.statusText;
    throw new Error(message);
  }
  return body;
}

/** The model list's path, asked for by the page's first task (start-engine.ts) and by api.ts. */
export const MODELS_PATH = 'api/models';
