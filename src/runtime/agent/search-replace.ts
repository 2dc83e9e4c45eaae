/**
 * The agent's search-replace (`POST /wpfleet/v1/search-replace`): WP-CLI's `wp search-replace`,
 * run in the install's own PHP. Semantics in docs/operations.md.
 */
import type {
  SearchReplaceOptions,
  SearchReplaceReportRow,
  SearchReplaceResult,
} from '../../core/site-agent/operations.types.js';
import { AgentError, Reader, type AgentClient, type Json } from './client.js';

/**
 * Runs a search-replace in the install. A bad request (empty search, an invalid regex, `tables`
 * matching nothing) is an AgentError `invalid`, and nothing has been touched.
 */
export async function searchReplace(
  client: AgentClient,
  options: SearchReplaceOptions,
): Promise<SearchReplaceResult> {
  const r = new Reader(await client.call('POST', 'search-replace', wireBody(options)));
  return {
    total: r.integer('total'),
    report: r.list('report').map(reportRow),
    warnings: r.strings('warnings'),
  };
}

/** The JSON body: snake_case names; options left unset are not sent (the agent's defaults apply). */
export function wireBody(options: SearchReplaceOptions): Json {
  const fields: [string, unknown][] = [
    ['search', options.search],
    ['replace', options.replace],
    ['dry_run', options.dryRun],
    ['tables', options.tables],
    ['skip_tables', options.skipTables],
    ['skip_columns', options.skipColumns],
    ['include_columns', options.includeColumns],
    ['all_tables', options.allTables],
    ['all_tables_with_prefix', options.allTablesWithPrefix],
    ['regex', options.regex],
    ['regex_flags', options.regexFlags],
    ['regex_delimiter', options.regexDelimiter],
    ['regex_limit', options.regexLimit],
    ['precise', options.precise],
    ['recurse_objects', options.recurseObjects],
    ['report_changed_only', options.reportChangedOnly],
  ];
  const body: Json = {};
  for (const [wire, value] of fields) {
    if (value !== undefined) body[wire] = value;
  }
  return body;
}

function reportRow(row: Reader, index: number): SearchReplaceReportRow {
  const table = row.string('table');
  const column = row.string('column');
  const type = row.string('type');
  if (row.isString('replacements')) {
    const replacements = row.string('replacements');
    if (
      (replacements === 'skipped' || replacements === 'skipped (view)') &&
      column === '' &&
      type === ''
    ) {
      return { table, column, replacements, type };
    }
  } else {
    const replacements = row.integer('replacements');
    if ((type === 'SQL' || type === 'PHP') && replacements >= 0) {
      return { table, column, replacements, type };
    }
  }
  throw new AgentError(200, 'bad_response', `In the answer, report[${index}] is not a report row.`);
}
