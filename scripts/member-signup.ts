/**
 * Signing a member up over HTTP the way a person does, for scripts, benches and tests against a
 * running API: `POST /v1/auth/signup`, the token from the verification e-mail in the mail
 * simulator's inbox (`GET <MAIL_URL>/admin/messages?to=`), `POST /v1/auth/verify`.
 */
import { VERIFICATION_TOKEN } from '../api/auth/signup-requests';
import type { MailMessageList } from '../simulators/mail/contract';

/** The newest verification token in `email`'s inbox at the mail simulator; waits for it to arrive. */
export async function readVerificationToken({
  mailUrl,
  email,
  timeoutMs = 30_000,
  notToken,
}: {
  mailUrl: string;
  email: string;
  timeoutMs?: number;
  notToken?: string;
}): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const url = `${mailUrl.replace(/\/+$/, '')}/admin/messages?to=${encodeURIComponent(email)}`;
  for (;;) {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (res?.ok) {
      const { messages } = (await res.json()) as MailMessageList;
      const token = messages.map((m) => VERIFICATION_TOKEN.exec(m.text)?.[0]).find((t) => t !== undefined && t !== notToken);
      if (token) return token;
    }
    if (Date.now() > deadline) throw new Error(`no verification e-mail for ${email} at ${mailUrl} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What verify answers (the token response of login). */
export interface VerifiedMember {
  customerId: string;
  role: 'customer' | 'admin';
  accessToken: string;
  token: string;
  refreshToken: string;
  expiresIn: number;
}

/** Signs up and verifies; throws with the API's answer when either step is refused. */
export async function signUpVerified({
  apiUrl,
  mailUrl,
  body,
  timeoutMs,
}: {
  apiUrl: string;
  mailUrl: string;
  body: { email: string } & Record<string, unknown>;
  timeoutMs?: number;
}): Promise<VerifiedMember> {
  const base = apiUrl.replace(/\/+$/, '');
  const post = async (path: string, payload: unknown, expected: number): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`POST ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text);
  };
  await post('/v1/auth/signup', body, 202);
  const token = await readVerificationToken({ mailUrl, email: body.email.trim().toLowerCase(), timeoutMs });
  return (await post('/v1/auth/verify', { token }, 201)) as VerifiedMember;
}
