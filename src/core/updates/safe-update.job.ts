import { OWNER } from '../users/roles.js';
import { SCOPES, type Actor } from '../actor.js';
import { FinalJobError, type JobDefinition, type JobPayload } from '../jobs/job-contract.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { JobSteps, StepData } from '../jobs/steps.js';
import type { InstallRow } from '../installs/installs.repository.js';
import type { SiteOperationsService } from '../site-agent/site-operations.service.js';
import type { SiteAgents } from '../site-agent/site-agent.js';
import type { Store } from '../store.js';
import { beyondThreshold, judgePage, showsTitle, type PageHealth } from './health.js';
import type {
  SnapshotRecord,
  UpdatePages,
  UpdateSnapshots,
  UpdateTarget,
  VisualCheck,
} from './ports.js';
import { percent, updateFolder } from './records.js';
import type { SafeUpdatesService } from './safe-updates.service.js';

type Payload = JobPayload<'install.safe_update'>;

export interface SafeUpdateJobDeps {
  store: Store;
  sites: Pick<SiteOperationsService, 'updateExtension' | 'refreshAfterJob'>;
  safeUpdates: Pick<SafeUpdatesService, 'failedWithin'>;
  agents: SiteAgents;
  pages: UpdatePages;
  snapshots: UpdateSnapshots;
  visual: VisualCheck;
  /** Drops the install's cached pages on every server. */
  pagesChanged(installId: string): Promise<void>;
}

/** What the site was before anything changed: the checks after are held against it. */
interface Before {
  title: string | null;
  loginPath: string;
  home: PageHealth;
  login: PageHealth;
}

/** The screenshots' comparison, as the job's result and the activity log name it. */
interface VisualRecord extends StepData {
  /** Null when no screenshot after could be compared (the check failed before it). */
  difference: number | null;
  threshold: number;
  /** Paths relative to the data directory; after and diff are null when not taken. */
  before: string;
  after: string | null;
  diff: string | null;
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * `install.safe_update`: plugins and themes updated together behind a snapshot, all or nothing.
 * Steps: the site's state before (home and login page healthy, its title, else refused with
 * nothing changed); a screenshot of the home page; a snapshot of the database and of the items'
 * folders; the updates through SiteOperationsService (logged as each `plugin.update`); the checks
 * (home and login 200, no fatal error, the title still shown); the screenshot after and its
 * difference. Any failure after the snapshot restores it and fails the job for good with the
 * reason, recorded as the step and activity `update.rolled_back`. A run after a crash that had
 * taken the snapshot but not passed the checks rolls back rather than guessing.
 */
export class SafeUpdateJob {
  constructor(private readonly deps: SafeUpdateJobDeps) {}

  definition(): JobDefinition<'install.safe_update'> {
    return {
      run: (job, payload, steps) => this.run(job, payload, steps),
      abandon: (job, steps, reason) => this.abandon(job, steps, reason),
      givenUp: (r, job, error) => this.deps.safeUpdates.failedWithin(r, job, error),
    };
  }

  async run(job: JobRow, payload: Payload, steps: JobSteps): Promise<Record<string, unknown>> {
    const started = Date.now();
    const install = await this.deps.store.read.installs.findAny(job.target_id);
    if (install === undefined || install.deleted_at !== null) {
      return { skipped: 'the install was deleted' };
    }
    const done = steps.get('update.done');
    if (done !== undefined) return done;
    const folder = updateFolder(install.id, job.id);
    const actor = jobActor(install);
    const snapshot = snapshotOf(steps);
    const rollback = steps.get('update.rollback');
    if (snapshot !== null && rollback !== undefined) {
      const reason = typeof rollback.reason === 'string' ? rollback.reason : 'interrupted';
      const visual = (rollback.visual ?? null) as VisualRecord | null;
      return this.rollBack(job, install, snapshot, steps, reason, visual);
    }
    const checked = steps.get('update.checked');
    if (snapshot !== null && checked !== undefined) {
      // Killed after the checks passed: the update stands, only the tidying is left.
      return this.succeed(job, install, snapshot, steps, checked);
    }
    if (snapshot !== null) {
      return this.rollBack(
        job,
        install,
        snapshot,
        steps,
        'the update was interrupted before its checks passed',
        null,
      );
    }

    const before = await this.before(job, install, payload, steps);
    if (payload.visual && !steps.has('update.before-shot')) {
      try {
        await this.deps.visual.screenshot(install.id, `${folder}/before.png`);
      } catch (err) {
        await this.refuse(
          job,
          install,
          payload,
          steps,
          `the screenshot before failed: ${message(err)}`,
        );
      }
      await steps.record('update.before-shot', { before: `${folder}/before.png` });
    }
    const targets: UpdateTarget[] = payload.items.map(({ kind, slug }) => ({ kind, slug }));
    const taken = await this.deps.snapshots.take(install.id, `${folder}/snapshot`, targets);
    await steps.record('update.snapshot', { snapshot: { ...taken } });

    const visual: VisualRecord | null = payload.visual
      ? {
          difference: null,
          threshold: payload.threshold,
          before: `${folder}/before.png`,
          after: null,
          diff: null,
        }
      : null;
    let changes: StepData[];
    try {
      changes = [];
      for (const item of payload.items) {
        const change = await this.deps.sites.updateExtension(
          actor,
          install.id,
          item.kind,
          item.slug,
          item.version,
        );
        changes.push({
          kind: item.kind,
          slug: item.slug,
          version_before: change.versionBefore,
          version_after: change.versionAfter,
        });
      }
      await steps.record('update.applied', { items: changes });
    } catch (err) {
      return this.rollBack(job, install, taken, steps, `the update failed: ${message(err)}`, null);
    }
    let after: { home: PageHealth; login: PageHealth };
    try {
      await this.deps.pagesChanged(install.id);
      after = await this.health(install, before);
      const problem = after.home.problem ?? after.login.problem;
      if (problem !== null) {
        // The broken page's picture goes with the record, when one can be taken.
        if (visual !== null) await this.shootAfter(install.id, visual).catch(() => undefined);
        throw new Error(problem);
      }
      if (visual !== null) {
        const difference = await this.shootAfter(install.id, visual);
        if (beyondThreshold(difference, payload.threshold)) {
          throw new Error(
            `the home page looks different: ${percent(difference)} of its pixels changed, more than the threshold of ${percent(payload.threshold)}`,
          );
        }
      }
    } catch (err) {
      return this.rollBack(job, install, taken, steps, message(err), visual);
    }
    const result = {
      items: changes,
      visual,
      health: { before: { home: before.home, login: before.login }, after },
      ms: Date.now() - started,
    };
    await steps.record('update.checked', result);
    return this.succeed(job, install, taken, steps, result);
  }

  /** The update stands: the snapshot goes, the inventory is read again, the outcome logged. */
  private async succeed(
    job: JobRow,
    install: InstallRow,
    snapshot: SnapshotRecord,
    steps: JobSteps,
    result: StepData,
  ): Promise<Record<string, unknown>> {
    // A failure to tidy or to read the inventory again changes nothing of the update.
    await this.deps.snapshots.discard(snapshot).catch(() => undefined);
    await this.deps.sites.refreshAfterJob(install.id).catch(() => undefined);
    await steps.record('update.done', result, (r) =>
      r.activity.record(jobActor(install), {
        action: 'update.succeeded',
        targetType: 'install',
        targetId: install.id,
        details: { job_id: job.id, items: result.items, visual: result.visual },
      }),
    );
    return result;
  }

  /** After restarts kept killing the job: a snapshot taken is put back. */
  async abandon(job: JobRow, steps: JobSteps, reason: string): Promise<void> {
    const install = await this.deps.store.read.installs.findAny(job.target_id);
    const snapshot = snapshotOf(steps);
    if (install === undefined || install.deleted_at !== null || snapshot === null) return;
    if (steps.has('update.checked')) return;
    await this.rollBack(job, install, snapshot, steps, reason, null).catch(() => undefined);
  }

  /** The screenshot after, compared with the one before: answers the difference. */
  private async shootAfter(installId: string, visual: VisualRecord): Promise<number> {
    const folder = visual.before.slice(0, visual.before.lastIndexOf('/'));
    await this.deps.visual.screenshot(installId, `${folder}/after.png`);
    visual.after = `${folder}/after.png`;
    const diff = await this.deps.visual.compare(visual.before, visual.after, `${folder}/diff.png`);
    visual.diff = `${folder}/diff.png`;
    visual.difference = diff.difference;
    return diff.difference;
  }

  /** The site's state before: healthy, or the job is refused with nothing changed. */
  private async before(
    job: JobRow,
    install: InstallRow,
    payload: Payload,
    steps: JobSteps,
  ): Promise<Before> {
    const recorded = steps.get('update.before');
    if (recorded !== undefined) return recorded as unknown as Before;
    const agent = await this.deps.agents.forInstall(install.id);
    const options = await agent.getOptions(['blogname']);
    const blogname = options.values.blogname;
    const title = typeof blogname === 'string' && blogname.trim() !== '' ? blogname : null;
    const settings = await this.deps.store.read.installSettings.get(install.id);
    const loginPath = settings.loginPath === null ? '/wp-login.php' : `/${settings.loginPath}`;
    const homePage = await this.deps.pages.get(install.id, '/');
    // A theme that never prints the title cannot lose it: the check after asks only what was so.
    const shown = title !== null && showsTitle(homePage.body, title);
    const home = { ...judgePage('/', homePage, null), titleShown: title === null ? null : shown };
    const login = judgePage(loginPath, await this.deps.pages.get(install.id, loginPath), null);
    const before: Before = { title: shown ? title : null, loginPath, home, login };
    const broken = before.home.problem ?? before.login.problem;
    if (broken !== null) {
      await this.refuse(
        job,
        install,
        payload,
        steps,
        `the site is not healthy before the update, so nothing was changed: ${broken}`,
      );
    }
    await steps.record('update.before', { ...before });
    return before;
  }

  private async health(
    install: InstallRow,
    before: Before,
  ): Promise<{ home: PageHealth; login: PageHealth }> {
    const home = judgePage('/', await this.deps.pages.get(install.id, '/'), before.title);
    const login = judgePage(
      before.loginPath,
      await this.deps.pages.get(install.id, before.loginPath),
      null,
    );
    return { home, login };
  }

  /** Fails the job for good with nothing changed, and says why. */
  private async refuse(
    job: JobRow,
    install: InstallRow,
    payload: Payload,
    steps: JobSteps,
    reason: string,
  ): Promise<never> {
    await steps.record('update.refused', { reason }, (r) =>
      r.activity.record(jobActor(install), {
        action: 'update.refused',
        targetType: 'install',
        targetId: install.id,
        details: { job_id: job.id, items: payload.items, reason },
      }),
    );
    throw new FinalJobError(reason);
  }

  /**
   * Puts the snapshot back (files, database, PHP restarted, pages dropped), checks that the home
   * page answers 200 again, records why, and fails the job for good.
   */
  private async rollBack(
    job: JobRow,
    install: InstallRow,
    snapshot: SnapshotRecord,
    steps: JobSteps,
    reason: string,
    visual: VisualRecord | null,
  ): Promise<never> {
    const actor = jobActor(install);
    await steps.record('update.rollback', { reason, visual });
    let homeStatus: number | null = null;
    try {
      await this.deps.snapshots.restore(install.id, snapshot);
      await this.deps.pagesChanged(install.id);
      homeStatus = (await this.deps.pages.get(install.id, '/')).status;
    } catch (err) {
      const failure = `${reason}; putting the snapshot back failed too (${message(err)}): the snapshot stays in ${snapshot.dir}`;
      await steps.record('update.rollback_failed', { reason: failure, visual }, (r) =>
        r.activity.record(actor, {
          action: 'update.rollback_failed',
          targetType: 'install',
          targetId: install.id,
          details: { job_id: job.id, reason: failure, visual },
        }),
      );
      throw new FinalJobError(failure);
    }
    await this.deps.sites.refreshAfterJob(install.id).catch(() => undefined);
    await this.deps.snapshots.discard(snapshot).catch(() => undefined);
    const outcome = { reason, visual, home_status: homeStatus };
    await steps.record('update.rolled_back', outcome, (r) =>
      r.activity.record(actor, {
        action: 'update.rolled_back',
        targetType: 'install',
        targetId: install.id,
        details: { job_id: job.id, ...outcome },
      }),
    );
    const after = homeStatus === 200 ? '' : ` (the home page answers ${homeStatus} after it)`;
    throw new FinalJobError(`rolled back${after}: ${reason}`);
  }
}

/** The job acts for the install's account, as the one who queued it was allowed to. */
function jobActor(install: InstallRow): Actor {
  return {
    accountId: install.account_id,
    userId: 'runtime',
    label: 'runtime',
    scopes: new Set(SCOPES),
    role: OWNER,
    installIds: null,
  };
}

function snapshotOf(steps: JobSteps): SnapshotRecord | null {
  const recorded = steps.get('update.snapshot')?.snapshot;
  return typeof recorded === 'object' && recorded !== null ? (recorded as SnapshotRecord) : null;
}
