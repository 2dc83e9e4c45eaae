import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../src/core/errors.js';
import type { InstallRow } from '../../src/core/installs/installs.repository.js';
import type { JobRow } from '../../src/core/jobs/jobs.repository.js';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { refusal } from '../helpers/refusal.js';

/**
 * ClonesService's checks and records on a store without a job runner: what a clone and a copy
 * between environments accept and refuse, the jobs they queue (and in which order), and what
 * the runtime's reports do to the installs. The copying itself is test/e2e/clone-staging.
 */
describe.each(ENGINES)('clones and copies between environments on %s', (engine) => {
  let h: Harness;
  let actor: Actor;
  let counter = 0;

  beforeAll(async () => {
    h = await startHarness(engine);
    actor = operatorActor((await h.tenant()).accountId);
  });
  afterAll(async () => {
    await h.close();
  });

  const name = (): string => `cl${engine.slice(0, 2)}${++counter}`;
  const row = async (id: string): Promise<InstallRow> => {
    const found = await h.app.store.read.installs.findAny(id);
    if (found === undefined) throw new Error('install vanished');
    return found;
  };
  const jobsOf = (id: string): Promise<JobRow[]> => h.app.store.read.jobs.listForTarget(id);

  /** What provisioning leaves: WordPress installed on a release (active unless `pending`). */
  async function provisioned(id: string, status = 'active'): Promise<void> {
    await h.app.store.transaction((r) =>
      r.installs.update(id, {
        status,
        release_version: '6.1.9',
        wp_version: '6.1.9',
        table_prefix: 'wp_',
        php_version: '8.1',
      }),
    );
  }

  async function install(
    by: Actor = actor,
    options: { site?: string; environment?: 'staging' | 'development'; status?: string } = {},
  ): Promise<InstallRow> {
    const view = await h.app.services.installs.create(by, {
      name: name(),
      account_id: by.accountId,
      site_id: options.site,
      environment: options.environment,
    });
    await provisioned(view.install.id, options.status);
    return row(view.install.id);
  }

  const codeOf = (err: Error): string | undefined =>
    err instanceof ValidationError ? err.issues[0]?.code : undefined;

  it('creates the new install pending on the source release and PHP, and queues its copy after its provisioning', async () => {
    const source = await install();
    const target = name();
    const queued = await h.app.services.clones.clone(actor, source.id, { name: target });
    const made = queued.install.install;
    expect(made).toMatchObject({
      name: target,
      status: 'pending',
      account_id: actor.accountId,
      php_version: '8.1',
      release_version: '6.1.9',
      environment: 'production',
    });
    expect(made.site_id).not.toBe(source.site_id);
    const jobs = await jobsOf(made.id);
    expect(jobs.map((j) => j.type)).toEqual(['install.provision', 'install.clone']);
    const [provision, clone] = jobs as [JobRow, JobRow];
    expect(clone.id).toBe(queued.jobId);
    expect(JSON.parse(clone.payload)).toEqual({ source_id: source.id });
    // Jobs of one install run in the order they were created (JobsRepository.nextDue).
    expect(clone.created_at > provision.created_at).toBe(true);
    const activity = await h.app.store.read.activity.listForAccount(actor.accountId, 50);
    expect(
      activity.find((a) => a.action === 'install.clone' && a.target_id === made.id),
    ).toMatchObject({ actor: 'cli' });
  });

  it('keeps a cloned install pending after provisioning, active only once the copy is in, failed with the reason when it fails', async () => {
    const source = await install();
    const ok = await h.app.services.clones.clone(actor, source.id, { name: name() });
    const activation = { wp_version: '6.1.9', php_version: '8.1', release: '6.1.9' };
    // Provisioning's last step: the install stays pending while its clone job is unfinished.
    await h.app.store.transaction((r) =>
      h.app.services.installs.markActiveWithin(r, ok.install.install.id, activation),
    );
    expect((await row(ok.install.install.id)).status).toBe('pending');
    const [, cloneJob] = (await jobsOf(ok.install.install.id)) as [JobRow, JobRow];
    await h.app.store.transaction((r) =>
      h.app.services.clones.clonedWithin(r, cloneJob, activation, { source_backup_id: 'b' }),
    );
    expect((await row(ok.install.install.id)).status).toBe('active');
    const activity = await h.app.store.read.activity.listForAccount(actor.accountId, 100);
    const cloned = activity.filter((a) => a.action === 'install.cloned');
    expect(cloned.map((a) => a.target_id).sort()).toEqual(
      [source.id, ok.install.install.id].sort(),
    );

    const bad = await h.app.services.clones.clone(actor, source.id, { name: name() });
    const [, badJob] = (await jobsOf(bad.install.install.id)) as [JobRow, JobRow];
    await h.app.store.transaction((r) =>
      h.app.services.clones.cloneFailedWithin(r, badJob, 'the disk is full'),
    );
    expect(await row(bad.install.install.id)).toMatchObject({
      status: 'failed',
      status_reason: `cloning ${source.name} failed: the disk is full`,
    });
  });

  it('refuses an unknown source, another account’s, one not running, a taken name and a read-only actor, creating nothing', async () => {
    const source = await install();
    const other = operatorActor((await h.tenant()).accountId);
    const theirs = await install(other);
    const pending = await install(actor, { status: 'pending' });
    const before = (
      await h.app.store.read.installs.list(
        { accountId: actor.accountId, ids: null },
        { limit: 1000, offset: 0 },
      )
    ).total;
    const clones = h.app.services.clones;

    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', theirs.id]) {
      const err = await refusal(clones.clone(actor, id, { name: name() }));
      expect(err).toBeInstanceOf(NotFoundError);
      expect(err.message).toBe('Install not found');
    }
    const notActive = await refusal(clones.clone(actor, pending.id, { name: name() }));
    expect(codeOf(notActive)).toBe('not_active');
    expect(notActive.message).toContain(`Install ${pending.name} is pending`);
    const taken = await refusal(clones.clone(actor, source.id, { name: source.name }));
    expect(codeOf(taken)).toBe('taken');
    const badName = await refusal(clones.clone(actor, source.id, { name: 'No Good' }));
    expect(codeOf(badName)).toBe('invalid');
    // The source's site already has a production install.
    const sameSite = await refusal(
      clones.clone(actor, source.id, { name: name(), siteId: source.site_id ?? '' }),
    );
    expect(codeOf(sameSite)).toBe('taken');
    const readOnly: Actor = { ...actor, scopes: new Set(['read']) };
    expect(await refusal(clones.clone(readOnly, source.id, { name: name() }))).toBeInstanceOf(
      ForbiddenError,
    );

    const after = (
      await h.app.store.read.installs.list(
        { accountId: actor.accountId, ids: null },
        { limit: 1000, offset: 0 },
      )
    ).total;
    expect(after).toBe(before);
  });

  it('clones into another environment of the source site', async () => {
    const source = await install();
    const queued = await h.app.services.clones.clone(actor, source.id, {
      name: name(),
      siteId: source.site_id ?? '',
      environment: 'staging',
    });
    expect(queued.install.install).toMatchObject({
      site_id: source.site_id,
      environment: 'staging',
    });
  });

  it('queues a copy between two environments of a site, and refuses any other pair', async () => {
    const production = await install();
    const site = production.site_id ?? '';
    const staging = await install(actor, { site, environment: 'staging' });
    const elsewhere = await install();
    const other = operatorActor((await h.tenant()).accountId);
    const theirs = await install(other);
    const development = await install(actor, {
      site,
      environment: 'development',
      status: 'pending',
    });
    const clones = h.app.services.clones;
    const copy = (from: string, to: string, parts: 'both' | 'files' | 'database' = 'both') =>
      refusal(clones.copyBetween(actor, { from, to, parts }));

    const same = await copy(staging.id, staging.id);
    expect(codeOf(same)).toBe('same_install');
    expect(same.message).toContain('cannot be copied onto itself');
    const apart = await copy(staging.id, elsewhere.id);
    expect(codeOf(apart)).toBe('different_site');
    expect(apart.message).toContain('belong to different sites');
    expect(await copy(theirs.id, production.id)).toBeInstanceOf(NotFoundError);
    expect(await copy(staging.id, '00000000-0000-4000-8000-000000000000')).toBeInstanceOf(
      NotFoundError,
    );
    expect(codeOf(await copy(staging.id, development.id))).toBe('not_active');
    expect(codeOf(await copy(staging.id, production.id, 'everything' as unknown as 'both'))).toBe(
      'invalid',
    );
    const readOnly: Actor = { ...actor, scopes: new Set(['read']) };
    expect(
      await refusal(
        clones.copyBetween(readOnly, { from: staging.id, to: production.id, parts: 'both' }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    expect(await jobsOf(production.id)).toHaveLength(1);

    const queued = await clones.copyBetween(actor, {
      from: staging.id,
      to: production.id,
      parts: 'database',
    });
    const job = (await jobsOf(production.id)).find((j) => j.id === queued.jobId);
    expect(job).toMatchObject({ type: 'install.copy', install_id: production.id });
    expect(JSON.parse(job?.payload ?? '{}')).toEqual({ source_id: staging.id, parts: 'database' });

    // By environment, from any install of the site; a missing environment is named.
    const pulled = await clones.copyBetweenEnvironments(
      actor,
      staging.id,
      { from: 'production', to: 'staging' },
      'files',
    );
    expect(pulled).toMatchObject({ parts: 'files' });
    expect(pulled.from.id).toBe(production.id);
    expect(pulled.to.id).toBe(staging.id);
    const lonely = await install();
    const missing = await refusal(
      clones.copyBetweenEnvironments(
        actor,
        lonely.id,
        { from: 'staging', to: 'production' },
        'both',
      ),
    );
    expect(codeOf(missing)).toBe('missing');
    expect(missing.message).toContain(`The site of install ${lonely.name} has no staging install`);
    // A SQLite install and a MySQL one cannot share their database.
    await h.app.store.transaction((r) =>
      h.app.services.installs.recordChoicesWithin(r, staging.id, {
        release_version: '6.1.9',
        table_prefix: 'wp_',
        agent_secret: 'x',
        db_name: 'x',
        db_user: 'x',
        db_password: 'x',
      }),
    );
    expect(codeOf(await copy(staging.id, production.id))).toBe('different_database');
  });
});
