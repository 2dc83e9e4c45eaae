<?php
/**
 * Shared helpers of the plugins, themes and translations modules: WordPress's upgrader classes
 * with a quiet skin, the `direct` filesystem, packages handed over by the control plane, errors
 * in WordPress's own words, and a guard that turns a fatal error into an agent answer.
 *
 * The control plane copies a package into wp-content/upgrade-packages/<name>.zip and names it in
 * the call; only such a bare name is accepted, resolved inside that folder (never a path).
 */

define( 'WPFLEET_AGENT_PACKAGES_DIR', 'upgrade-packages' );

// ---------------------------------------------------------------------------------------------
// Pure functions.
// ---------------------------------------------------------------------------------------------

/** Whether a package name is a bare file name the control plane could have chosen. */
function wpfleet_agent_package_name_valid( $name ) {
	return is_string( $name ) && 1 === preg_match( '/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.zip$/D', $name );
}

/** A plugin's slug as WP-CLI names it: its folder, or its file name without .php. */
function wpfleet_agent_plugin_slug( $file ) {
	$file = (string) $file;
	$dir  = dirname( $file );
	return '.' === $dir ? preg_replace( '/\.php$/D', '', basename( $file ) ) : $dir;
}

/** Whether a slug or stylesheet is a plain folder name (no path, no dot segments). */
function wpfleet_agent_slug_valid( $slug ) {
	return is_string( $slug ) && 1 === preg_match( '/^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/D', $slug ) && false === strpos( $slug, '..' );
}

/** Whether a plugin file is a relative path of one or two segments ending in .php. */
function wpfleet_agent_plugin_file_valid( $file ) {
	return is_string( $file ) && 1 === preg_match( '#^([A-Za-z0-9_][A-Za-z0-9._-]{0,199}/)?[A-Za-z0-9_][A-Za-z0-9._-]{0,199}\.php$#D', $file ) && false === strpos( $file, '..' );
}

/** Plain text of an error message: tags removed, entities decoded, whitespace collapsed. */
function wpfleet_agent_plain_text( $text ) {
	$text = html_entity_decode( strip_tags( (string) $text ), ENT_QUOTES, 'UTF-8' );
	return trim( preg_replace( '/\s+/u', ' ', $text ) );
}

/**
 * The agent's code for a WordPress error code: what is missing is not_found, a bad name is
 * invalid, a folder that already exists is conflict, anything else failed.
 */
function wpfleet_agent_code_for( $wp_code ) {
	$codes = array(
		'plugin_not_found' => 'not_found',
		'theme_not_found'  => 'not_found',
		'plugin_invalid'   => 'invalid',
		'folder_exists'    => 'conflict',
	);
	return isset( $codes[ $wp_code ] ) ? $codes[ $wp_code ] : 'failed';
}

// ---------------------------------------------------------------------------------------------
// WordPress.
// ---------------------------------------------------------------------------------------------

/**
 * Loads what the operations need from wp-admin, and the upgraders whose maintenance mode is the
 * install's own (WordPress's writes ABSPATH/.maintenance, which is the release that every
 * install on it shares, mounted read-only).
 */
function wpfleet_agent_upgrader_load() {
	static $loaded = false;
	if ( $loaded ) {
		return;
	}
	$loaded = true;
	foreach ( array( 'file', 'misc', 'plugin', 'theme', 'class-wp-upgrader' ) as $include ) {
		require_once ABSPATH . 'wp-admin/includes/' . $include . '.php';
	}
	// php-wasm's file owner and process uid checks decide nothing useful: the install's files are
	// its own, so write them directly, never through FTP or SSH credentials.
	add_filter( 'filesystem_method', 'wpfleet_agent_direct_filesystem', PHP_INT_MAX );

	class WPFleet_Agent_Plugin_Upgrader extends Plugin_Upgrader {
		public function maintenance_mode( $enable = false ) {
			wpfleet_agent_upgrade_maintenance( $enable );
		}
	}
	class WPFleet_Agent_Theme_Upgrader extends Theme_Upgrader {
		public function maintenance_mode( $enable = false ) {
			wpfleet_agent_upgrade_maintenance( $enable );
		}
	}
	class WPFleet_Agent_Language_Pack_Upgrader extends Language_Pack_Upgrader {
		public function maintenance_mode( $enable = false ) {
			wpfleet_agent_upgrade_maintenance( $enable );
		}
	}
}

function wpfleet_agent_direct_filesystem() {
	return 'direct';
}

/**
 * An upgrader's maintenance mode, kept in the install's own flag. A flag that was on before the
 * upgrade (turned on by the control plane) is left on.
 */
function wpfleet_agent_upgrade_maintenance( $enable ) {
	static $ours = false;
	$path = wpfleet_agent_maintenance_path();
	if ( $enable ) {
		if ( ! wpfleet_agent_maintenance_on() && false !== file_put_contents( $path, (string) time() . "\n", LOCK_EX ) ) {
			$ours = true;
		}
	} elseif ( $ours ) {
		$ours = false;
		if ( is_file( $path ) ) {
			unlink( $path );
		}
	}
	clearstatcache( true, $path );
}

/** A boolean field of the body, $default when absent; null when it is not a boolean. */
function wpfleet_agent_body_flag( $body, $key, $default ) {
	if ( ! array_key_exists( $key, $body ) ) {
		return $default;
	}
	return is_bool( $body[ $key ] ) ? $body[ $key ] : null;
}

/** WordPress's own toggle (wp_ajax_toggle_auto_updates): the site option, stale entries dropped. */
function wpfleet_agent_set_auto_update( $option, $item, $enabled, $existing ) {
	$auto = (array) get_site_option( $option, array() );
	if ( $enabled ) {
		$auto[] = $item;
		$auto   = array_unique( $auto );
	} else {
		$auto = array_diff( $auto, array( $item ) );
	}
	update_site_option( $option, array_values( array_intersect( $auto, $existing ) ) );
}

/**
 * An upgrader_source_selection filter for updates: WordPress's own package check first, then
 * the package's folder must be the slug being updated (WordPress would otherwise delete the old
 * folder and install the package under its own name).
 */
function wpfleet_agent_package_folder_check( $slug, $check_package ) {
	return function ( $source ) use ( $slug, $check_package ) {
		$source = call_user_func( $check_package, $source );
		if ( is_wp_error( $source ) ) {
			return $source;
		}
		$folder = basename( untrailingslashit( (string) $source ) );
		if ( $folder !== $slug ) {
			return new WP_Error( 'wpfleet_wrong_package', sprintf( 'The package holds %s, not %s.', $folder, $slug ) );
		}
		return $source;
	};
}

/** A quiet skin that collects WordPress's messages and errors instead of printing them. */
function wpfleet_agent_upgrader_skin() {
	wpfleet_agent_upgrader_load();
	return new WP_Ajax_Upgrader_Skin();
}

/** The package file a call names, or a WP_Error (invalid name, or no such file). */
function wpfleet_agent_package_path( $body ) {
	$name = isset( $body['package'] ) ? $body['package'] : null;
	if ( ! wpfleet_agent_package_name_valid( $name ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'package must be the name of a .zip file in wp-content/' . WPFLEET_AGENT_PACKAGES_DIR . '/ (letters, digits, "-" and "_").' );
	}
	$path = WP_CONTENT_DIR . '/' . WPFLEET_AGENT_PACKAGES_DIR . '/' . $name;
	if ( ! is_file( $path ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'The package ' . $name . ' is not in wp-content/' . WPFLEET_AGENT_PACKAGES_DIR . '/.' );
	}
	return $path;
}

/**
 * An agent error from a WP_Error, with WordPress's own text as an upgrader skin shows it (each
 * message, followed by its data when that is a string) and WordPress's code in data.wp_code.
 */
function wpfleet_agent_from_wp_error( $error, $prefix = '' ) {
	$messages = array();
	foreach ( $error->get_error_codes() as $wp_code ) {
		$data = $error->get_error_data( $wp_code );
		foreach ( $error->get_error_messages( $wp_code ) as $message ) {
			$messages[] = wpfleet_agent_plain_text( $message . ( is_string( $data ) && '' !== $data ? ' ' . $data : '' ) );
		}
	}
	$wp_code = (string) $error->get_error_code();
	$code    = wpfleet_agent_code_for( $wp_code );
	$status  = wpfleet_agent_error( $code );
	$text    = implode( ' ', array_filter( $messages, 'strlen' ) );
	return new WP_Error(
		$code,
		trim( $prefix . ' ' . ( '' === $text ? $status[1] : $text ) ),
		array(
			'status'  => $status[0],
			'wp_code' => $wp_code,
		)
	);
}

/**
 * What an upgrader's run ended with: null on success, else the agent error. The upgrader answers
 * true, false or a WP_Error; the skin holds errors that were only reported to it.
 */
function wpfleet_agent_upgrader_failure( $result, $skin ) {
	if ( is_wp_error( $result ) ) {
		return wpfleet_agent_from_wp_error( $result );
	}
	$errors = $skin->get_errors();
	if ( is_wp_error( $errors ) && $errors->has_errors() ) {
		return wpfleet_agent_from_wp_error( $errors );
	}
	if ( is_wp_error( $skin->result ) ) {
		return wpfleet_agent_from_wp_error( $skin->result );
	}
	if ( true !== $result && ! is_array( $result ) ) {
		return wpfleet_agent_wp_error( 'failed', 'The upgrader did not finish; it reported: ' . implode( ' ', array_map( 'wpfleet_agent_plain_text', $skin->get_upgrade_messages() ) ) );
	}
	return null;
}

/**
 * Runs an operation that loads code WordPress does not control (a plugin being activated): an
 * exception or error thrown while it loads becomes an agent error with $message first, and a
 * fatal error PHP cannot catch (a function declared twice) still answers JSON, from a shutdown
 * function, instead of an empty 500. In both cases the output the code printed is dropped.
 */
function wpfleet_agent_guarded( $message, $operation ) {
	wpfleet_agent_fatal_guard( $message );
	$level = ob_get_level();
	try {
		$result = call_user_func( $operation );
	} catch ( Throwable $e ) {
		$result = new WP_Error( 'wpfleet_fatal', $message . ' ' . $e->getMessage() );
	}
	while ( ob_get_level() > $level ) {
		ob_end_clean();
	}
	wpfleet_agent_fatal_guard( null );
	return $result;
}

/** Arms (a message) or disarms (null) the fatal error answer; with no argument, reads it. */
function wpfleet_agent_fatal_guard( $message = false ) {
	static $armed      = null;
	static $registered = false;
	if ( false === $message ) {
		return $armed;
	}
	$armed = $message;
	if ( null !== $message && ! $registered ) {
		$registered = true;
		register_shutdown_function( 'wpfleet_agent_fatal_answer' );
	}
	return $armed;
}

/** Shutdown function: answers a fatal error of a guarded operation as an agent error. */
function wpfleet_agent_fatal_answer() {
	$armed = wpfleet_agent_fatal_guard();
	$error = error_get_last();
	$fatal = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR;
	if ( null === $armed || null === $error || 0 === ( $error['type'] & $fatal ) ) {
		return;
	}
	wpfleet_agent_upgrade_maintenance( false );
	while ( ob_get_level() > 0 ) {
		ob_end_clean();
	}
	if ( ! headers_sent() ) {
		http_response_code( 500 );
		header( 'Content-Type: application/json; charset=UTF-8' );
		header( 'Cache-Control: no-store, private' );
	}
	echo json_encode(
		array(
			'code'    => 'failed',
			'message' => $armed . ' ' . wpfleet_agent_plain_text( $error['message'] ),
			'data'    => array( 'status' => 500 ),
		)
	);
}
