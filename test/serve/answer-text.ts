import type { ServeResponse } from '../../src/serve/types.js';

/** A handler's answer with its body as text (credentials bodies are bytes, encoded once). */
export interface TextResponse {
  readonly status: number;
  readonly headers: ServeResponse['headers'];
  readonly body: string;
}

export async function asText(answer: ServeResponse | Promise<ServeResponse>): Promise<TextResponse> {
  const { status, headers, body } = await answer;
  return { status, headers, body: typeof body === 'string' ? body : body.toString('utf8') };
}
