/** PostgreSQL returns count(*) as a string (bigint); SQLite as a number. */
export function toCount(value: number | string | bigint): number {
  return Number(value);
}
