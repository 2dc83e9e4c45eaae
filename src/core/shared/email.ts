// Deliberately simple: one @, no spaces, a dotted domain. Deliverability is the mail server's
// business; this only refuses what cannot be an address.
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value) && !/\p{Cc}/u.test(value);
}
