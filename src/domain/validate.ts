import { ValidationError } from './errors.js';

/** Length limits of user text, in characters after trimming. Documented in docs/PROTOCOL.md. */
export const Limits = {
  name: 100,
  displayName: 80,
  cardTitle: 200,
  cardDescription: 10_000,
  commentBody: 10_000,
  email: 254,
  passwordMin: 8,
  passwordMax: 200,
} as const;

/** Counts Unicode code points, so an emoji counts as one character, as people count. */
function characters(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** Trims `value` and checks it is non-empty and at most `max` characters. */
export function requiredText(field: string, value: string, max: number): string {
  const text = value.trim();
  if (text.length === 0) throw new ValidationError(field, `${field} must not be empty.`);
  return optionalText(field, text, max);
}

/** Like requiredText, but the empty string is allowed. */
export function optionalText(field: string, value: string, max: number): string {
  const text = value.trim();
  const length = characters(text);
  if (length > max) throw new ValidationError(field, `${field} is ${length} characters long; the maximum is ${max}.`);
  return text;
}

// Deliberately loose: one @, no spaces, a dot in the domain. Deliverability
// is the mail server's business.
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Returns the trimmed address and its lower-cased key for uniqueness. */
export function emailAddress(field: string, value: string): { email: string; emailKey: string } {
  const email = value.trim();
  if (email.length > Limits.email || !emailPattern.test(email)) {
    throw new ValidationError(field, `${field} must be an email address such as ada@example.com.`);
  }
  return { email, emailKey: email.toLowerCase() };
}

export function password(field: string, value: string): string {
  if (value.length < Limits.passwordMin) {
    throw new ValidationError(field, `${field} must be at least ${Limits.passwordMin} characters long.`);
  }
  if (value.length > Limits.passwordMax) {
    throw new ValidationError(field, `${field} must be at most ${Limits.passwordMax} characters long.`);
  }
  return value;
}
