<?php
/**
 * Core: the database upgrade after the install switched release, and options by name.
 *
 * An install's WordPress files are the shared, read-only release; switching release changes
 * them under the install's own database, which then needs wp_upgrade() (what
 * wp-admin/upgrade.php and `wp core update-db` run) to match the new code's $wp_db_version.
 */

/** The agent's own one-time records (nonces, login tokens) are never read or written as options. */
function wpfleet_agent_options_reserved( $name ) {
	return 0 === strpos( $name, 'wpfleet_agent_' );
}

/** An option name the agent takes: 1 to 191 characters (the column's size), not reserved. */
function wpfleet_agent_options_check_name( $name ) {
	if ( ! is_string( $name ) || '' === $name || strlen( $name ) > 191 ) {
		return 'Option names must be strings of 1 to 191 characters.';
	}
	if ( wpfleet_agent_options_reserved( $name ) ) {
		return 'Option ' . $name . ' belongs to the agent and cannot be read or written.';
	}
	return null;
}

/** POST /core/upgrade-db {}: wp_upgrade(), answering the stored db_version before and after. */
function wpfleet_agent_core_upgrade_db( $request ) {
	global $wp_db_version, $wp_version;
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	require_once ABSPATH . 'wp-admin/includes/upgrade.php';
	// wp-admin/upgrade.php drops the cached core update check: it compared the old version.
	delete_site_transient( 'update_core' );
	$before = (int) __get_option( 'db_version' );
	wp_upgrade();
	// wp_upgrade() writes db_version with update_option() and flushes the object cache.
	$after = (int) __get_option( 'db_version' );
	if ( $after !== (int) $wp_db_version ) {
		return wpfleet_agent_wp_error( 'failed', 'The database is at version ' . $after . ' after the upgrade, not ' . $wp_db_version . '.' );
	}
	return array(
		'db_version_before' => $before,
		'db_version_after'  => $after,
		'upgraded'          => $before !== $after,
		'wordpress_version' => (string) $wp_version,
	);
}

/** POST /options/get {names: string[]}: get_option() of each; names with no option are in `missing`. */
function wpfleet_agent_options_get( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$names = isset( $body['names'] ) ? $body['names'] : null;
	if ( ! is_array( $names ) || array() === $names || count( $names ) > 100 || array_values( $names ) !== $names ) {
		return wpfleet_agent_wp_error( 'invalid', 'names must be a list of 1 to 100 option names.' );
	}
	foreach ( $names as $name ) {
		$problem = wpfleet_agent_options_check_name( $name );
		if ( null !== $problem ) {
			return wpfleet_agent_wp_error( 'invalid', $problem );
		}
	}
	// get_option() answers false both for a missing option and a stored false; a sentinel default
	// tells them apart.
	$missing_marker = new stdClass();
	$values         = new stdClass();
	$missing        = array();
	foreach ( $names as $name ) {
		$value = get_option( $name, $missing_marker );
		if ( $value === $missing_marker ) {
			$missing[] = $name;
		} else {
			$values->$name = $value;
		}
	}
	return array(
		'values'  => $values,
		'missing' => $missing,
	);
}

/**
 * POST /options {values: {name: value}}: update_option() of each (autoload unchanged for an
 * existing option); answers the values read back, the earlier values of the names that existed
 * (`previous`, for the activity log) and the names that changed. Any name is written except the agent's own: which options a caller may set is
 * the control plane's decision. All names and values are checked before anything is written.
 */
function wpfleet_agent_options_set( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$values = isset( $body['values'] ) ? $body['values'] : null;
	if ( ! is_array( $values ) || array() === $values || count( $values ) > 100 || array_values( $values ) === $values ) {
		return wpfleet_agent_wp_error( 'invalid', 'values must be an object of 1 to 100 option names and their values.' );
	}
	foreach ( $values as $name => $value ) {
		$problem = wpfleet_agent_options_check_name( (string) $name );
		if ( null !== $problem ) {
			return wpfleet_agent_wp_error( 'invalid', $problem );
		}
		if ( null === $value ) {
			return wpfleet_agent_wp_error( 'invalid', 'The value of ' . $name . ' is null: options are set to strings, numbers, booleans, lists or objects.' );
		}
	}
	$missing_marker = new stdClass();
	$changed        = array();
	$previous       = new stdClass();
	$stored         = new stdClass();
	foreach ( $values as $name => $value ) {
		$name   = (string) $name;
		$before = get_option( $name, $missing_marker );
		if ( $before !== $missing_marker ) {
			$previous->$name = $before;
		}
		// update_option() answers false when the value is unchanged, as well as on failure.
		if ( update_option( $name, $value ) ) {
			$changed[] = $name;
		}
		$stored->$name = get_option( $name );
	}
	return array(
		'values'   => $stored,
		'previous' => $previous,
		'changed'  => $changed,
	);
}

if ( function_exists( 'wpfleet_agent_routes' ) ) {
	wpfleet_agent_routes(
		array(
			'/core/upgrade-db' => array( 'POST', 'wpfleet_agent_core_upgrade_db' ),
			'/options/get'     => array( 'POST', 'wpfleet_agent_options_get' ),
			'/options'         => array( 'POST', 'wpfleet_agent_options_set' ),
		)
	);
}
