/**
 * The password policy (NIST SP 800-63B): long rather than complex. 12 to 256 characters, not a
 * known common password, not mostly one character, and not the email address itself. No
 * composition rules (they make passwords weaker and more predictable).
 */
import { z } from 'zod';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** A short blocklist of the most common passwords that pass the length rule. */
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  'password1234',
  'password12345',
  'passwordpassword',
  'qwertyuiop12',
  'qwertyuiopasdf',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'administrator',
  'abcdefghijkl',
  'changeme1234',
  'closetflow123',
  'closetflow1234',
]);

/** The zod schema of a new password (signup); what is wrong is said in the message. */
export const newPasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH)
  .refine((p) => !COMMON.has(p.toLowerCase()), 'is a commonly used password; choose another')
  .refine((p) => new Set(p).size >= 5, 'must use at least 5 different characters')
  .meta({ description: `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters, at least 5 different, not a common password, not the email address.` });

/** True when the password contains the email (or its local part, if 4+ characters). */
export function passwordContainsEmail(password: string, email: string): boolean {
  const p = password.toLowerCase();
  const local = email.split('@')[0] ?? '';
  return p.includes(email.toLowerCase()) || (local.length >= 4 && p.includes(local.toLowerCase()));
}
