import fs from 'node:fs';
import path from 'node:path';

/**
 * The agent's per-install maintenance flag (agent/wpfleet-agent.php, docs/agent.md): while this
 * file is in wp-content, WordPress answers visitors 503 and signed agent calls still pass.
 */
export const MAINTENANCE_FLAG = '.wpfleet-maintenance';

/**
 * Turns maintenance on by writing the flag as the agent does. A restore writes it itself rather
 * than calling the agent: the flag must also be inside the wp-content about to be swapped in, and
 * must go on whatever state an interrupted restore left WordPress in. The agent turns it off once
 * the restored WordPress answers.
 */
export function setMaintenanceFlag(contentDir: string): void {
  fs.writeFileSync(path.join(contentDir, MAINTENANCE_FLAG), `${Math.floor(Date.now() / 1000)}\n`);
}

/** Turns maintenance off as the agent does (removes the flag); no flag is no error. */
export function clearMaintenanceFlag(contentDir: string): void {
  fs.rmSync(path.join(contentDir, MAINTENANCE_FLAG), { force: true });
}

export function maintenanceFlagSet(contentDir: string): boolean {
  return fs.existsSync(path.join(contentDir, MAINTENANCE_FLAG));
}
