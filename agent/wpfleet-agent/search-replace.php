<?php
/**
 * Search-replace with WP-CLI's semantics (wp-cli/search-replace-command v2.1.x, read from its
 * source: src/Search_Replace_Command.php, src/WP_CLI/SearchReplacer.php), run inside the install's
 * own PHP so serialized values are unserialized, replaced at every depth and serialized again.
 *
 * POST /wpfleet/v1/search-replace
 *   {search, replace, dry_run?, tables?, skip_tables?, skip_columns?, include_columns?, all_tables?,
 *    all_tables_with_prefix?, regex?, regex_flags?, regex_delimiter?, regex_limit?, precise?,
 *    recurse_objects?, report_changed_only?}
 * answers {total, report: [{table, column, replacements, type}], warnings}. See
 * docs/operations.md.
 *
 * The functions down to the WordPress section are pure (no WordPress, no database), so they can
 * be tested alone. Must parse and run on PHP 7.4 to 8.5.
 */

// ---------------------------------------------------------------------------------------------
// Pure functions.
// ---------------------------------------------------------------------------------------------

/** Rows read per query in PHP mode: each row carries the column's value, so this bounds memory. */
define( 'WPFLEET_AGENT_SR_CHUNK', 100 );

/** At most this many distinct warnings are answered (one bad value per row would repeat). */
define( 'WPFLEET_AGENT_SR_MAX_WARNINGS', 100 );

/**
 * A value that starts like this sends its column to PHP mode. WP-CLI looks only for `^[aiO]:[1-9]`;
 * a top-level serialized string or custom object (`s:`, `C:`) would then be rewritten by SQL
 * REPLACE() and its length prefix broken, so those are recognised too.
 */
define( 'WPFLEET_AGENT_SR_SERIALIZED_SQL', '^([aiO]:[1-9]|[sC]:[0-9]+:")' );

/**
 * The request body checked and completed with WP-CLI's defaults: array( $options, null ), or
 * array( null, $message ) when something is wrong. Unknown fields are refused.
 */
function wpfleet_agent_sr_options( $body ) {
	if ( ! is_array( $body ) ) {
		return array( null, 'The body must be a JSON object.' );
	}
	$defaults = array(
		'search'                 => null,
		'replace'                => null,
		'dry_run'                => false,
		'tables'                 => array(),
		'skip_tables'            => array(),
		'skip_columns'           => array(),
		'include_columns'        => array(),
		'all_tables'             => false,
		'all_tables_with_prefix' => false,
		'regex'                  => false,
		'regex_flags'            => '',
		'regex_delimiter'        => '',
		'regex_limit'            => -1,
		'precise'                => false,
		'recurse_objects'        => true,
		'report_changed_only'    => false,
	);
	foreach ( array_keys( $body ) as $key ) {
		if ( ! array_key_exists( $key, $defaults ) ) {
			return array( null, sprintf( 'Unknown field "%s".', $key ) );
		}
	}
	$o = array();
	foreach ( $defaults as $key => $default ) {
		$o[ $key ] = array_key_exists( $key, $body ) && null !== $body[ $key ] ? $body[ $key ] : $default;
	}
	if ( ! is_string( $o['search'] ) || '' === $o['search'] ) {
		return array( null, 'search must be a non-empty string.' );
	}
	if ( ! is_string( $o['replace'] ) ) {
		return array( null, 'replace must be a string (it may be empty).' );
	}
	foreach ( array( 'dry_run', 'all_tables', 'all_tables_with_prefix', 'regex', 'precise', 'recurse_objects', 'report_changed_only' ) as $key ) {
		if ( ! is_bool( $o[ $key ] ) ) {
			return array( null, sprintf( '%s must be true or false.', $key ) );
		}
	}
	foreach ( array( 'tables', 'skip_tables', 'skip_columns', 'include_columns' ) as $key ) {
		if ( ! is_array( $o[ $key ] ) || array_values( $o[ $key ] ) !== $o[ $key ] ) {
			return array( null, sprintf( '%s must be a list of strings.', $key ) );
		}
		foreach ( $o[ $key ] as $item ) {
			if ( ! is_string( $item ) || '' === $item ) {
				return array( null, sprintf( '%s must be a list of non-empty strings.', $key ) );
			}
		}
	}
	foreach ( array( 'regex_flags', 'regex_delimiter' ) as $key ) {
		if ( ! is_string( $o[ $key ] ) ) {
			return array( null, sprintf( '%s must be a string.', $key ) );
		}
	}
	$limit = $o['regex_limit'];
	if ( is_int( $limit ) ) {
		$limit = (string) $limit;
	}
	if ( ! is_string( $limit ) || ! preg_match( '/^(?:[0-9]+|-1)$/D', $limit ) || 0 === (int) $limit ) {
		return array( null, 'regex_limit expects a non-zero positive integer or -1.' );
	}
	$o['regex_limit'] = (int) $limit;

	$o['default_delimiter'] = '' === $o['regex_delimiter'];
	if ( $o['default_delimiter'] ) {
		$o['regex_delimiter'] = chr( 1 );
	}
	if ( $o['regex'] ) {
		$error = wpfleet_agent_sr_regex_error( $o['search'], $o['regex_flags'], $o['regex_delimiter'], $o['default_delimiter'] );
		if ( null !== $error ) {
			return array( null, $error );
		}
	}
	return array( $o, null );
}

/**
 * Null when delimiter + pattern + delimiter + flags compiles, else WP-CLI's message for it
 * followed by PCRE's own ("preg_match(): Compilation failed: …").
 */
function wpfleet_agent_sr_regex_error( $pattern, $flags, $delimiter, $default_delimiter ) {
	$regex = $delimiter . $pattern . $delimiter . $flags;
	error_clear_last();
	if ( false !== @preg_match( $regex, '' ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged
		return null;
	}
	$last   = error_get_last();
	$reason = is_array( $last ) && isset( $last['message'] ) ? "\n" . rtrim( $last['message'], '.' ) . '.' : '';
	if ( $default_delimiter ) {
		$with = '' !== $flags ? "flags '$flags'" : 'no flags';
		return "The regex pattern '$pattern' with default delimiter 'chr(1)' and $with fails." . $reason;
	}
	return "The regex '$regex' fails." . $reason;
}

/** json_encode() of a string without its quotes (`https:\/\/a.test`); the string itself if it cannot be encoded. */
function wpfleet_agent_sr_json_form( $text ) {
	$encoded = json_encode( $text ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode
	return false !== $encoded ? substr( $encoded, 1, -1 ) : $text;
}

/** A LIKE pattern (without the `%` around it) matching at least every text containing $text, with no escapes. */
function wpfleet_agent_sr_like_superset( $text ) {
	return strtr( $text, array( '%' => '_', '_' => '_', '\\' => '_' ) );
}

/** Whether a table name matches a pattern where `*` is any run of characters and `?` one. */
function wpfleet_agent_sr_wildcard( $pattern, $name ) {
	$regex = '/^' . strtr( preg_quote( $pattern, '/' ), array( '\\*' => '.*', '\\?' => '.' ) ) . '$/sD';
	return 1 === preg_match( $regex, $name );
}

/**
 * The tables to work on, sorted, as WP-CLI's `wp_get_table_names()`: every table (all_tables), the
 * ones starting with the prefix (all_tables_with_prefix), or else the existing ones WordPress
 * registers. `tables` then narrows the set (wildcards allowed); array( $tables, $error ).
 */
function wpfleet_agent_sr_resolve_tables( array $existing, array $registered, $prefix, array $o ) {
	if ( $o['all_tables'] ) {
		$tables = $existing;
	} elseif ( $o['all_tables_with_prefix'] ) {
		$tables = array();
		foreach ( $existing as $table ) {
			if ( 0 === strpos( $table, $prefix ) ) {
				$tables[] = $table;
			}
		}
	} else {
		$tables = array_intersect( $existing, $registered );
	}
	$tables = array_values( array_unique( $tables ) );
	sort( $tables, SORT_STRING );
	if ( ! empty( $o['tables'] ) ) {
		$wanted = array();
		foreach ( $o['tables'] as $pattern ) {
			foreach ( $tables as $table ) {
				$wild = false !== strpos( $pattern, '*' ) || false !== strpos( $pattern, '?' );
				if ( $wild ? wpfleet_agent_sr_wildcard( $pattern, $table ) : $pattern === $table ) {
					$wanted[ $table ] = true;
				}
			}
		}
		$tables = array_values( array_filter( $tables, function ( $table ) use ( $wanted ) {
			return isset( $wanted[ $table ] );
		} ) );
		if ( empty( $tables ) ) {
			return array( array(), "Couldn't find any tables matching: " . implode( ' ', $o['tables'] ) );
		}
	}
	return array( $tables, null );
}

/** Whether skip_tables (wildcards allowed) leaves a table out. */
function wpfleet_agent_sr_table_skipped( $table, array $skip_tables ) {
	foreach ( $skip_tables as $pattern ) {
		if ( wpfleet_agent_sr_wildcard( $pattern, $table ) ) {
			return true;
		}
	}
	return false;
}

/**
 * Whether a column is searched: include_columns (if any) names it as `col` or `table.col`,
 * skip_columns does not, and it is never `user_pass` (hashed passwords are never touched).
 */
function wpfleet_agent_sr_column_wanted( $table, $column, array $include, array $skip ) {
	if ( 'user_pass' === $column ) {
		return false;
	}
	$qualified = $table . '.' . $column;
	if ( ! empty( $include ) && ! in_array( $column, $include, true ) && ! in_array( $qualified, $include, true ) ) {
		return false;
	}
	return ! in_array( $column, $skip, true ) && ! in_array( $qualified, $skip, true );
}

/** WP-CLI searches columns whose type names text or varchar (so not char, blob or json). */
function wpfleet_agent_sr_is_text_column( $type ) {
	return false !== stripos( (string) $type, 'text' ) || false !== stripos( (string) $type, 'varchar' );
}

/** An SQL identifier in backticks (doubled inside). */
function wpfleet_agent_sr_ident( $name ) {
	return '`' . str_replace( '`', '``', $name ) . '`';
}

/**
 * The keyset condition for the rows after the last one read, keys in order: for (X, Y, Z),
 * (X = x AND Y = y AND Z > z) OR (X = x AND Y > y) OR (X > x). Values come already quoted.
 */
function wpfleet_agent_sr_after_keys( array $keys, array $quoted ) {
	$any = array();
	for ( $last = count( $keys ) - 1; $last >= 0; $last-- ) {
		$all = array();
		for ( $i = 0; $i <= $last; $i++ ) {
			$all[] = wpfleet_agent_sr_ident( $keys[ $i ] ) . ( $i < $last ? ' = ' : ' > ' ) . $quoted[ $i ];
		}
		$any[] = '( ' . implode( ' AND ', $all ) . ' )';
	}
	return '( ' . implode( ' OR ', $any ) . ' )';
}

/**
 * WP-CLI's SearchReplacer: replaces in a value, unserializing (stdClass objects only) and
 * serializing again at every depth so every length is recomputed. Problems go to $warnings.
 */
class WPFleet_Agent_Search_Replacer {
	/** @var string[] */
	public $warnings = array();

	private $from;
	private $to;
	private $from_json;
	private $to_json;
	private $recurse_objects;
	private $regex;
	private $regex_flags;
	private $regex_delimiter;
	private $regex_limit;
	private $max_recursion;

	public function __construct( $from, $to, $recurse_objects = true, $regex = false, $regex_flags = '', $regex_delimiter = "\x01", $regex_limit = -1 ) {
		$this->from            = $from;
		$this->to              = $to;
		$this->from_json       = wpfleet_agent_sr_json_form( $from );
		$this->to_json         = wpfleet_agent_sr_json_form( $to );
		$this->recurse_objects = $recurse_objects;
		$this->regex           = $regex;
		$this->regex_flags     = $regex_flags;
		$this->regex_delimiter = $regex_delimiter;
		$this->regex_limit     = $regex_limit;
		$this->max_recursion   = intval( ini_get( 'xdebug.max_nesting_level' ) );
	}

	public function run( $data ) {
		return $this->run_recursively( $data, false );
	}

	private function warn( $message ) {
		$this->warnings[] = $message;
	}

	private function run_recursively( $data, $serialised, $recursion_level = 0, $visited_data = array() ) {
		try {
			if ( $this->recurse_objects ) {
				if ( 0 !== $this->max_recursion && $recursion_level >= $this->max_recursion ) {
					return $data;
				}
				if ( is_array( $data ) || is_object( $data ) ) {
					// A value met again on the way down is a cycle.
					if ( in_array( $data, $visited_data, true ) ) {
						return $data;
					}
					$visited_data[] = $data;
				}
			}

			try {
				$error_reporting = error_reporting();
				error_reporting( $error_reporting & ~E_NOTICE & ~E_WARNING );
				$unserialized = is_string( $data ) ? @unserialize( $data, array( 'allowed_classes' => array( 'stdClass' ) ) ) : false; // phpcs:ignore
				error_reporting( $error_reporting );
			} catch ( TypeError $exception ) {
				error_reporting( $error_reporting );
				$this->warn( sprintf( 'Skipping an inconvertible serialized object: "%s", replacements might not be complete. Reason: %s.', $data, $exception->getMessage() ) );
				throw new Exception( $exception->getMessage(), $exception->getCode(), $exception );
			}

			if ( false !== $unserialized ) {
				$data = $this->run_recursively( $unserialized, true, $recursion_level + 1 );
			} elseif ( is_array( $data ) ) {
				foreach ( array_keys( $data ) as $key ) {
					$data[ $key ] = $this->run_recursively( $data[ $key ], false, $recursion_level + 1, $visited_data );
				}
			} elseif ( $this->recurse_objects && ( is_object( $data ) || $data instanceof __PHP_Incomplete_Class ) ) {
				if ( $data instanceof __PHP_Incomplete_Class ) {
					$fields = (array) $data;
					$this->warn( sprintf( 'Skipping an uninitialized class "%s", replacements might not be complete.', $fields['__PHP_Incomplete_Class_Name'] ) );
				} else {
					try {
						$is_array_access = $data instanceof ArrayAccess;
						foreach ( $data as $key => $value ) {
							$value = $this->run_recursively( $value, false, $recursion_level + 1, $visited_data );
							if ( $is_array_access ) {
								$data[ $key ] = $value;
							} else {
								$data->$key = $value;
							}
						}
					} catch ( Error $exception ) {
						$this->warn( sprintf( 'Skipping an inconvertible serialized object of type "%s", replacements might not be complete. Reason: %s.', is_object( $data ) ? get_class( $data ) : gettype( $data ), $exception->getMessage() ) );
						throw new Exception( $exception->getMessage(), $exception->getCode(), $exception );
					}
				}
			} elseif ( is_string( $data ) ) {
				if ( $this->regex ) {
					$regex  = $this->regex_delimiter . $this->from . $this->regex_delimiter . $this->regex_flags;
					$result = preg_replace( $regex, $this->to, $data, $this->regex_limit );
					if ( null === $result || PREG_NO_ERROR !== preg_last_error() ) {
						$this->warn( sprintf( 'The provided regular expression threw a PCRE error - %s', self::preg_error_name( preg_last_error() ) ) );
					}
					$data = $result;
				} else {
					$data = str_replace( $this->from, $this->to, $data );
					if ( $this->from_json !== $this->from ) {
						$data = str_replace( $this->from_json, $this->to_json, $data );
					}
				}
			}

			if ( $serialised ) {
				return serialize( $data );
			}
		} catch ( Exception $exception ) { // phpcs:ignore Generic.CodeAnalysis.EmptyStatement.DetectedCatch
			// As WP-CLI: the value is answered as it stands; the caller does not write a changed type.
		}
		return $data;
	}

	private static function preg_error_name( $code ) {
		$constants = get_defined_constants( true );
		$pcre      = isset( $constants['pcre'] ) ? $constants['pcre'] : array();
		foreach ( $pcre as $name => $value ) {
			if ( $value === $code && '_ERROR' === substr( $name, -6 ) ) {
				return $name;
			}
		}
		return '<unknown error>';
	}
}

// ---------------------------------------------------------------------------------------------
// WordPress.
// ---------------------------------------------------------------------------------------------

/** One search-replace over the install's database, with $wpdb (MariaDB/MySQL or the SQLite integration). */
class WPFleet_Agent_Search_Replace {
	private $o;
	private $sqlite;
	private $php_only;
	private $warnings     = array();
	private $update_error = array();

	public function __construct( array $options ) {
		$this->o        = $options;
		$this->sqlite   = defined( 'SQLITE_DB_DROPIN_VERSION' );
		$this->php_only = $options['precise'] || '' !== $options['regex_flags'];
	}

	/** The answer, or a WP_Error when `tables` matches nothing. */
	public function run() {
		global $wpdb;
		$o = $this->o;
		if ( $o['search'] === $o['replace'] && ! $o['regex'] ) {
			return $this->answer( 0, array(), array( "Replacement value '{$o['search']}' is identical to search value '{$o['replace']}'. Skipping operation." ) );
		}
		$tables = wpfleet_agent_sr_resolve_tables( $this->existing_tables(), $this->registered_tables(), $wpdb->get_blog_prefix(), $o );
		if ( null !== $tables[1] ) {
			return wpfleet_agent_wp_error( 'invalid', $tables[1] );
		}
		$views  = $this->sqlite ? array() : array_flip( $this->views() );
		$total  = 0;
		$report = array();
		foreach ( $tables[0] as $table ) {
			if ( wpfleet_agent_sr_table_skipped( $table, $o['skip_tables'] ) ) {
				continue;
			}
			if ( isset( $views[ $table ] ) ) {
				if ( ! $o['report_changed_only'] ) {
					$report[] = $this->row( $table, '', 'skipped (view)', '' );
				}
				continue;
			}
			list( $keys, $columns ) = $this->columns( $table );
			// Rows are updated one at a time, found by their primary key.
			if ( empty( $keys ) ) {
				if ( ! $o['report_changed_only'] ) {
					$report[] = $this->row( $table, '', 'skipped', '' );
				}
				continue;
			}
			foreach ( $columns as $column ) {
				if ( isset( $keys[ $column ] ) || ! wpfleet_agent_sr_column_wanted( $table, $column, $o['include_columns'], $o['skip_columns'] ) ) {
					continue;
				}
				if ( $this->php_only || $o['regex'] || $this->sqlite || $this->looks_serialized( $table, $column ) ) {
					$type  = 'PHP';
					$count = $this->php_column( $table, $column, $keys );
				} else {
					$type  = 'SQL';
					$count = $this->sql_column( $table, $column );
				}
				if ( $count || ! $o['report_changed_only'] ) {
					$report[] = $this->row( $table, $column, $count, $type );
				}
				$total += $count;
			}
		}
		if ( ! $o['dry_run'] && $total > 0 ) {
			wp_cache_flush();
		}
		return $this->answer( $total, $report, $this->warnings );
	}

	private function answer( $total, array $report, array $warnings ) {
		return array(
			'total'    => $total,
			'report'   => $report,
			'warnings' => array_slice( array_values( array_unique( $warnings ) ), 0, WPFLEET_AGENT_SR_MAX_WARNINGS ),
		);
	}

	private function row( $table, $column, $replacements, $type ) {
		return array(
			'table'        => (string) $table,
			'column'       => (string) $column,
			'replacements' => $replacements,
			'type'         => $type,
		);
	}

	/** Every table in the database, without the SQLite integration's own bookkeeping tables. */
	private function existing_tables() {
		global $wpdb;
		$tables = array();
		foreach ( (array) $wpdb->get_col( 'SHOW TABLES', 0 ) as $table ) {
			$table = (string) $table;
			if ( $this->sqlite && ( 0 === strpos( $table, 'sqlite_' ) || 0 === strpos( $table, '_mysql_' ) || 0 === strpos( $table, '_wp_sqlite_' ) ) ) {
				continue;
			}
			$tables[] = $table;
		}
		return $tables;
	}

	/** The tables $wpdb registers for this site (and the global ones), as WP-CLI's default scope. */
	private function registered_tables() {
		global $wpdb, $wp_version;
		$tables = array_values( $wpdb->tables( 'all' ) );
		// sitecategories only counts while global terms are on (never since WordPress 6.1).
		if ( version_compare( $wp_version, '6.1', '>=' ) || ! function_exists( 'global_terms_enabled' ) || ! global_terms_enabled() ) {
			$tables = array_values( array_diff( $tables, array( $wpdb->sitecategories ) ) );
		}
		return $tables;
	}

	private function views() {
		global $wpdb;
		$suppress = $wpdb->suppress_errors( true );
		$views    = $wpdb->get_col( "SHOW FULL TABLES WHERE Table_Type = 'VIEW'", 0 );
		$wpdb->suppress_errors( $suppress );
		return array_map( 'strval', (array) $views );
	}

	/** Primary key columns (name => whether numeric) and the text columns, in table order. */
	private function columns( $table ) {
		global $wpdb;
		$suppress = $wpdb->suppress_errors( true );
		$results  = $wpdb->get_results( 'DESCRIBE ' . wpfleet_agent_sr_ident( $table ) );
		$wpdb->suppress_errors( $suppress );
		$keys    = array();
		$columns = array();
		foreach ( (array) $results as $column ) {
			if ( 'PRI' === $column->Key ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
				$keys[ (string) $column->Field ] = (bool) preg_match( '/int|decimal|numeric|float|double|real|bit/i', (string) $column->Type ); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			}
			if ( wpfleet_agent_sr_is_text_column( $column->Type ) ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
				$columns[] = (string) $column->Field; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			}
		}
		return array( $keys, $columns );
	}

	/** Whether any value of the column looks serialized (MariaDB/MySQL only; SQLite always goes PHP, as in WP-CLI). */
	private function looks_serialized( $table, $column ) {
		global $wpdb;
		$wpdb->last_error = '';
		$suppress         = $wpdb->suppress_errors( true );
		$found            = $wpdb->get_var( 'SELECT 1 FROM ' . wpfleet_agent_sr_ident( $table ) . ' WHERE ' . wpfleet_agent_sr_ident( $column ) . " REGEXP '" . WPFLEET_AGENT_SR_SERIALIZED_SQL . "' LIMIT 1" );
		$wpdb->suppress_errors( $suppress );
		// An error (e.g. 1139 on an odd collation) means PHP, as in WP-CLI.
		return null !== $found || '' !== $wpdb->last_error;
	}

	/**
	 * The search and its JSON form as a WHERE condition: byte-exact on MySQL; on SQLite a superset
	 * (LIKE there ignores ASCII case, and the integration does not translate `\\` escapes, so `%`,
	 * `_` and `\` become the `_` wildcard). Only rows whose value really changes are counted.
	 */
	private function like_condition( $column ) {
		global $wpdb;
		$ident = wpfleet_agent_sr_ident( $column );
		$json  = wpfleet_agent_sr_json_form( $this->o['search'] );
		$forms = $json !== $this->o['search'] ? array( $this->o['search'], $json ) : array( $this->o['search'] );
		$any   = array();
		foreach ( $forms as $form ) {
			$any[] = $this->sqlite
				? $ident . $wpdb->prepare( ' LIKE %s', '%' . wpfleet_agent_sr_like_superset( $form ) . '%' )
				: $ident . $wpdb->prepare( ' LIKE BINARY %s', '%' . $wpdb->esc_like( $form ) . '%' );
		}
		return 1 === count( $any ) ? $any[0] : '( ' . implode( ' OR ', $any ) . ' )';
	}

	/** SQL REPLACE() over the column; the count is the rows it changes (or would change). */
	private function sql_column( $table, $column ) {
		global $wpdb;
		$o      = $this->o;
		$t      = wpfleet_agent_sr_ident( $table );
		$c      = wpfleet_agent_sr_ident( $column );
		$from_j = wpfleet_agent_sr_json_form( $o['search'] );
		$to_j   = wpfleet_agent_sr_json_form( $o['replace'] );
		if ( $o['dry_run'] ) {
			return (int) $wpdb->get_var( "SELECT COUNT($c) FROM $t WHERE " . $this->like_condition( $column ) );
		}
		$wpdb->last_error = '';
		$suppress         = $wpdb->suppress_errors( true );
		if ( $from_j !== $o['search'] ) {
			$count = $wpdb->query( $wpdb->prepare( "UPDATE $t SET $c = REPLACE(REPLACE($c, %s, %s), %s, %s)", $o['search'], $o['replace'], $from_j, $to_j ) );
		} else {
			$count = $wpdb->query( $wpdb->prepare( "UPDATE $t SET $c = REPLACE($c, %s, %s)", $o['search'], $o['replace'] ) );
		}
		$wpdb->suppress_errors( $suppress );
		if ( '' !== $wpdb->last_error ) {
			$this->warnings[] = sprintf( "Error updating column '%s' in table '%s': %s", $column, $table, $wpdb->last_error );
		}
		return (int) $count;
	}

	/**
	 * Reads the column in primary-key order, WPFLEET_AGENT_SR_CHUNK rows at a time (keyset
	 * pagination, so rows changed behind the cursor are not read again), replaces in PHP and
	 * writes each changed row with $wpdb->update(). The count is the rows changed (or that would be).
	 */
	private function php_column( $table, $column, array $keys ) {
		global $wpdb;
		$o        = $this->o;
		$replacer = new WPFleet_Agent_Search_Replacer( $o['search'], $o['replace'], $o['recurse_objects'], $o['regex'], $o['regex_flags'], $o['regex_delimiter'], $o['regex_limit'] );
		$names    = array_keys( $keys );
		$idents   = array_map( 'wpfleet_agent_sr_ident', $names );
		$base     = $o['regex'] ? '' : $this->like_condition( $column );
		$order    = implode( ', ', array_map( function ( $ident ) {
			return "$ident ASC";
		}, $idents ) );
		$select   = 'SELECT ' . implode( ', ', $idents ) . ', ' . wpfleet_agent_sr_ident( $column ) . ' FROM ' . wpfleet_agent_sr_ident( $table );
		$after    = '';
		$count    = 0;
		do {
			$where = array_filter( array( $base, $after ) );
			$sql   = $select . ( $where ? ' WHERE ' . implode( ' AND ', $where ) : '' ) . " ORDER BY $order LIMIT " . WPFLEET_AGENT_SR_CHUNK;
			$rows  = $wpdb->get_results( $sql, ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
			// One transaction per chunk: on SQLite every lone UPDATE is its own synced commit
			// (about 4 ms each), and a short transaction keeps the site's own writers waiting little.
			$batch = ! $o['dry_run'] && ! empty( $rows );
			if ( $batch ) {
				$wpdb->query( 'START TRANSACTION' );
			}
			foreach ( (array) $rows as $row ) {
				$count += $this->php_row( $replacer, $table, $column, $names, $row );
			}
			if ( $batch ) {
				$wpdb->query( 'COMMIT' );
			}
			$this->warnings = array_merge( $this->warnings, $replacer->warnings );
			$replacer->warnings = array();
			if ( ! empty( $rows ) ) {
				$last   = end( $rows );
				$quoted = array();
				foreach ( $names as $name ) {
					$quoted[] = $this->sql_value( $last[ $name ], $keys[ $name ] );
				}
				$after = wpfleet_agent_sr_after_keys( $names, $quoted );
			}
		} while ( is_array( $rows ) && count( $rows ) === WPFLEET_AGENT_SR_CHUNK );
		return $count;
	}

	/** 1 when the row changed (or would), else 0. */
	private function php_row( $replacer, $table, $column, array $names, array $row ) {
		global $wpdb;
		$value = $row[ $column ];
		if ( '' === $value || null === $value ) {
			return 0;
		}
		$value = (string) $value;
		$new   = $replacer->run( $value );
		// A value whose type changed hit an error on the way (WP-CLI writes nothing then).
		if ( $new === $value || gettype( $new ) !== gettype( $value ) ) {
			return 0;
		}
		if ( $this->o['dry_run'] ) {
			return 1;
		}
		if ( isset( $this->update_error[ $table ][ $column ] ) ) {
			return 0;
		}
		$where = array();
		foreach ( $names as $name ) {
			$where[ $name ] = (string) $row[ $name ];
		}
		$error = $this->update( $table, $column, $new, $where );
		if ( null !== $error ) {
			$this->update_error[ $table ][ $column ] = true;
			$this->warnings[]                         = '' !== $error
				? sprintf( "Error updating column '%s' in table '%s': %s", $column, $table, $error )
				: sprintf( "Error updating column '%s' in table '%s'.", $column, $table );
			return 0;
		}
		return 1;
	}

	/**
	 * Writes one value; null when done, else the database's error ('' if it gave none). On
	 * SQLite a prepared statement goes to the integration's PDO: the integration would otherwise
	 * lex the whole value as MySQL text (about 3 ms a row for a 2 kB post), and a plain UPDATE of
	 * one value needs none of its translation.
	 */
	private function update( $table, $column, $value, array $where ) {
		global $wpdb;
		$pdo = $this->sqlite_pdo();
		if ( null !== $pdo ) {
			$quote = function ( $name ) {
				return '"' . str_replace( '"', '""', $name ) . '"';
			};
			$sql = 'UPDATE ' . $quote( $table ) . ' SET ' . $quote( $column ) . ' = ? WHERE '
				. implode( ' AND ', array_map( function ( $name ) use ( $quote ) {
					return $quote( $name ) . ' = ?';
				}, array_keys( $where ) ) );
			try {
				$statement = $pdo->prepare( $sql );
				if ( $statement && $statement->execute( array_merge( array( $value ), array_values( $where ) ) ) ) {
					return null;
				}
				$info = $statement ? $statement->errorInfo() : $pdo->errorInfo();
				return isset( $info[2] ) ? (string) $info[2] : '';
			} catch ( PDOException $exception ) {
				return $exception->getMessage();
			}
		}
		$wpdb->last_error = '';
		$suppress         = $wpdb->suppress_errors( true );
		$result           = $wpdb->update( $table, array( $column => $value ), $where );
		$wpdb->suppress_errors( $suppress );
		return false === $result ? (string) $wpdb->last_error : null;
	}

	/** The SQLite integration's PDO connection, when it exposes one. */
	private function sqlite_pdo() {
		global $wpdb;
		if ( ! $this->sqlite || ! isset( $wpdb->dbh ) || ! is_object( $wpdb->dbh ) || ! method_exists( $wpdb->dbh, 'get_pdo' ) ) {
			return null;
		}
		$pdo = $wpdb->dbh->get_pdo();
		return $pdo instanceof PDO ? $pdo : null;
	}

	/** A key value for SQL: bare when the column is numeric and so is the value, else quoted. */
	private function sql_value( $value, $numeric ) {
		$value = (string) $value;
		if ( $numeric && preg_match( '/^[+-]?[0-9]{1,20}$/D', $value ) ) {
			return $value;
		}
		return "'" . esc_sql( $value ) . "'";
	}
}

/** POST /search-replace. */
function wpfleet_agent_search_replace( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	list( $options, $error ) = wpfleet_agent_sr_options( $body );
	if ( null !== $error ) {
		return wpfleet_agent_wp_error( 'invalid', $error );
	}
	$run = new WPFleet_Agent_Search_Replace( $options );
	return $run->run();
}

if ( function_exists( 'wpfleet_agent_routes' ) ) {
	wpfleet_agent_routes( array( '/search-replace' => array( 'POST', 'wpfleet_agent_search_replace' ) ) );
}
