import type { Command } from 'commander';
import type { InstallSettings } from '../core/installs/install-settings.js';
import type { SearchReplaceOptions } from '../core/site-agent/operations.types.js';
import { CliError } from './output.js';
import { onOff, print, table, withSite, withSiteOptions, type SiteFlags } from './site-context.js';

interface SearchReplaceFlags extends SiteFlags {
  dryRun?: boolean;
  tables?: string[];
  skipTables?: string[];
  skipColumns?: string[];
  includeColumns?: string[];
  allTables?: boolean;
  allTablesWithPrefix?: boolean;
  regex?: boolean;
  regexFlags?: string;
  regexDelimiter?: string;
  regexLimit?: string;
  precise?: boolean;
  recurseObjects?: boolean;
  reportChangedOnly?: boolean;
}

interface SettingsFlags extends SiteFlags {
  wpDebug?: string;
  fileEdit?: string;
  fileProtection?: string;
  loginPath?: string;
}

/** Comma-separated or repeated: `--tables a,b --tables c`. */
function list(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter((v) => v !== '')];
}

function searchReplaceOptions(
  search: string,
  replace: string,
  f: SearchReplaceFlags,
): SearchReplaceOptions {
  const limit = f.regexLimit === undefined ? undefined : Number(f.regexLimit);
  if (limit !== undefined && !Number.isInteger(limit)) {
    throw new CliError('--regex-limit must be an integer (-1 for no limit)');
  }
  const options: SearchReplaceOptions = { search, replace };
  if (f.dryRun === true) options.dryRun = true;
  if (f.tables !== undefined) options.tables = f.tables;
  if (f.skipTables !== undefined) options.skipTables = f.skipTables;
  if (f.skipColumns !== undefined) options.skipColumns = f.skipColumns;
  if (f.includeColumns !== undefined) options.includeColumns = f.includeColumns;
  if (f.allTables === true) options.allTables = true;
  if (f.allTablesWithPrefix === true) options.allTablesWithPrefix = true;
  if (f.regex === true) options.regex = true;
  if (f.regexFlags !== undefined) options.regexFlags = f.regexFlags;
  if (f.regexDelimiter !== undefined) options.regexDelimiter = f.regexDelimiter;
  if (limit !== undefined) options.regexLimit = limit;
  if (f.precise === true) options.precise = true;
  if (f.recurseObjects === false) options.recurseObjects = false;
  if (f.reportChangedOnly === true) options.reportChangedOnly = true;
  return options;
}

function settingsJson(s: InstallSettings): Record<string, unknown> {
  return {
    wp_debug: s.wpDebug,
    disallow_file_edit: s.disallowFileEdit,
    file_protection: s.fileProtection,
    login_path: s.loginPath,
  };
}

/** search-replace, maintenance and settings: operations on one install's WordPress as a whole. */
export function siteToolCommands(program: Command): void {
  withSiteOptions(program.command('search-replace <install> <search> <replace>'))
    .description("replace text in the install's database as `wp search-replace` does")
    .option('--dry-run', 'count what would change; change nothing')
    .option('--tables <names>', 'only these tables (`*` and `?` wildcards)', list)
    .option('--skip-tables <names>', 'leave these tables out (wildcards)', list)
    .option('--skip-columns <names>', 'leave these columns out (`col` or `table.col`)', list)
    .option('--include-columns <names>', 'only these columns (`col` or `table.col`)', list)
    .option('--all-tables', 'every table of the database')
    .option('--all-tables-with-prefix', "every table with the site's prefix")
    .option('--regex', 'the search is a regular expression (PCRE, no delimiters)')
    .option('--regex-flags <flags>', 'PCRE modifiers, e.g. i')
    .option('--regex-delimiter <char>', 'the delimiter to wrap the expression in')
    .option('--regex-limit <n>', 'replacements per value (-1: no limit)')
    .option('--precise', 'always replace in PHP, never with SQL REPLACE()')
    .option('--no-recurse-objects', 'leave serialized objects as they are')
    .option('--report-changed-only', 'report only the columns that changed')
    .action(async (install: string, search: string, replace: string, flags: SearchReplaceFlags) => {
      const options = searchReplaceOptions(search, replace, flags);
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const result = await hosting.sites.searchReplace(actor, row.id, options);
        const verb = options.dryRun === true ? 'would be changed' : 'changed';
        print(flags, result, [
          ...table([
            ['TABLE', 'COLUMN', 'REPLACEMENTS', 'TYPE'],
            ...result.report.map((r) => [r.table, r.column, String(r.replacements), r.type]),
          ]),
          ...result.warnings.map((w) => `warning: ${w}`),
          `${result.total} replacements ${verb}`,
        ]);
      });
    });

  withSiteOptions(program.command('maintenance <on|off> <install>'))
    .description('turn maintenance mode on (visitors get 503) or off')
    .action(async (state: string, install: string, flags: SiteFlags) => {
      const enabled = onOff(state, 'the state');
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const now = await hosting.sites.setMaintenance(actor, row.id, enabled);
        print(
          flags,
          { maintenance: now },
          `maintenance mode of ${row.name} is ${now ? 'on' : 'off'}`,
        );
      });
    });

  withSiteOptions(program.command('settings <install>'))
    .description(
      "show or change an install's debugging and hardening settings (no option: show them)",
    )
    .option('--wp-debug <on|off>', 'WP_DEBUG, logged to wp-content/debug.log, never shown')
    .option('--file-edit <on|off>', "wp-admin's plugin and theme editors (DISALLOW_FILE_EDIT)")
    .option('--file-protection <on|off>', 'the edge refuses config, backup and dump files')
    .option('--login-path <slug|none>', 'serve the login page at /<slug> only (none: wp-login.php)')
    .action(async (install: string, flags: SettingsFlags) => {
      const change: Partial<InstallSettings> = {};
      if (flags.wpDebug !== undefined) change.wpDebug = onOff(flags.wpDebug, '--wp-debug');
      if (flags.fileEdit !== undefined) {
        change.disallowFileEdit = !onOff(flags.fileEdit, '--file-edit');
      }
      if (flags.fileProtection !== undefined) {
        change.fileProtection = onOff(flags.fileProtection, '--file-protection');
      }
      if (flags.loginPath !== undefined) {
        change.loginPath = flags.loginPath === 'none' ? null : flags.loginPath;
      }
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const settings =
          Object.keys(change).length === 0
            ? await hosting.settings.get(actor, row.id)
            : await hosting.settings.change(actor, row.id, change);
        print(flags, settingsJson(settings), [
          `WP_DEBUG         ${settings.wpDebug ? 'on' : 'off'}`,
          `file editing     ${settings.disallowFileEdit ? 'off' : 'on'}`,
          `file protection  ${settings.fileProtection ? 'on' : 'off'}`,
          `login path       ${settings.loginPath === null ? '/wp-login.php' : `/${settings.loginPath}`}`,
        ]);
      });
    });
}
