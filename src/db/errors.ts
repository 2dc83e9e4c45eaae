export interface UniqueViolation {
  table: string;
  column: string;
}

const RESOURCES: Record<string, string> = {
  installs: 'Install',
  domains: 'Domain',
  sites: 'Site',
  users: 'AccountUser',
  account_users: 'AccountUser',
  ssh_keys: 'SshKey',
};

/**
 * Recognises a broken unique constraint on either engine and says where: a race that two
 * requests' checks both passed ends here instead of in a 500.
 */
export function uniqueViolation(err: unknown): UniqueViolation | null {
  if (typeof err !== 'object' || err === null || !('code' in err)) return null;
  const e = err as { code: unknown; message?: unknown; table?: unknown; detail?: unknown };
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const m = /constraint failed: (\w+)\.(\w+)/.exec(String(e.message));
    return { table: m?.[1] ?? 'unknown', column: m?.[2] ?? 'id' };
  }
  if (e.code === '23505') {
    const m = /Key \(([^,)]+)/.exec(String(e.detail));
    return { table: typeof e.table === 'string' ? e.table : 'unknown', column: m?.[1] ?? 'id' };
  }
  return null;
}

export function resourceOfTable(table: string): string {
  return RESOURCES[table] ?? 'Request';
}
