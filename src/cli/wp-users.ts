import type { Command } from 'commander';
import type { WordPressUser } from '../core/inventory/inventory.types.js';
import type { UserRef } from '../core/site-agent/operations.types.js';
import { print, table, withSite, withSiteOptions, type SiteFlags } from './site-context.js';

interface CreateFlags extends SiteFlags {
  role?: string;
  password?: string;
  displayName?: string;
}

interface DeleteFlags extends SiteFlags {
  reassign?: string;
}

/** A user as given on the command line: digits are an id, anything else a login or e-mail. */
function userRef(value: string): UserRef {
  return /^[0-9]+$/.test(value) ? Number(value) : value;
}

function userJson(u: WordPressUser): Record<string, unknown> {
  return {
    id: u.id,
    login: u.login,
    email: u.email,
    display_name: u.displayName,
    roles: u.roles,
    registered: u.registered,
  };
}

/** `wpfleet users …`: the WordPress users of one install (not the platform's account users). */
export function wpUserCommands(program: Command): void {
  const users = program.command('users').description("manage an install's WordPress users");

  withSiteOptions(users.command('list <install>'))
    .description('list the users of the install with their roles')
    .action(async (install: string, flags: SiteFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const list = await hosting.sites.users(actor, row.id);
        print(
          flags,
          { users: list.users.map(userJson), total: list.total },
          table([
            ['ID', 'LOGIN', 'EMAIL', 'ROLES'],
            ...list.users.map((u) => [String(u.id), u.login, u.email, u.roles.join(',')]),
          ]),
        );
      });
    });

  withSiteOptions(users.command('create <install> <login> <email>'))
    .description("create a user with wp_insert_user (default role: the site's default)")
    .option('--role <role>', 'administrator, editor, author, contributor, subscriber, …')
    .option('--password <password>', 'default: a generated one, printed once')
    .option('--display-name <name>', 'the name shown on the site')
    .action(async (install: string, login: string, email: string, flags: CreateFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const created = await hosting.sites.createUser(actor, row.id, {
          login,
          email,
          ...(flags.role === undefined ? {} : { role: flags.role }),
          ...(flags.password === undefined ? {} : { password: flags.password }),
          ...(flags.displayName === undefined ? {} : { displayName: flags.displayName }),
        });
        print(flags, { user: userJson(created.user), password: created.password }, [
          `created user ${created.user.login} (id ${created.user.id}, ${created.user.roles.join(',')})`,
          ...(created.password === null ? [] : [`password (shown once): ${created.password}`]),
        ]);
      });
    });

  withSiteOptions(users.command('set-role <install> <user> <role>'))
    .description("make <role> the user's only role")
    .action(async (install: string, user: string, role: string, flags: SiteFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const change = await hosting.sites.setUserRole(actor, row.id, userRef(user), role);
        print(
          flags,
          { user: userJson(change.user), previous_roles: change.previousRoles },
          `user ${change.user.login}: ${change.previousRoles.join(',') || 'no role'} → ${change.user.roles.join(',')}`,
        );
      });
    });

  withSiteOptions(users.command('delete <install> <user>'))
    .description('delete a user; their content goes to --reassign, else it is deleted with them')
    .option('--reassign <user>', 'the user who gets their posts and links')
    .action(async (install: string, user: string, flags: DeleteFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const deleted = await hosting.sites.deleteUser(
          actor,
          row.id,
          userRef(user),
          flags.reassign === undefined ? undefined : userRef(flags.reassign),
        );
        print(
          flags,
          { deleted: userJson(deleted.deleted), reassigned_to: deleted.reassignedTo },
          `deleted user ${deleted.deleted.login}` +
            (deleted.reassignedTo === null ? '' : `; content now user ${deleted.reassignedTo}'s`),
        );
      });
    });

  withSiteOptions(users.command('reset-password <install> <user>'))
    .description("set a new password (given or generated) and end the user's sessions")
    .option('--password <password>', 'default: a generated one, printed once')
    .action(async (install: string, user: string, flags: CreateFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const reset = await hosting.sites.resetPassword(
          actor,
          row.id,
          userRef(user),
          flags.password,
        );
        print(flags, { user: userJson(reset.user), password: reset.password }, [
          `password of ${reset.user.login} reset`,
          ...(reset.password === null ? [] : [`new password (shown once): ${reset.password}`]),
        ]);
      });
    });
}
