<?php
/**
 * Plugins: list, install, activate, deactivate, delete, update, auto-update; each with
 * WordPress's own functions and upgrader, answering what changed (version and active state
 * before and after). Errors carry WordPress's own text. See docs/operations.md.
 */

if ( function_exists( 'wpfleet_agent_routes' ) ) {
	wpfleet_agent_routes(
		array(
			'/plugins'             => array( 'GET', 'wpfleet_agent_plugins_list' ),
			'/plugins/install'     => array( 'POST', 'wpfleet_agent_plugins_install' ),
			'/plugins/activate'    => array( 'POST', 'wpfleet_agent_plugins_activate' ),
			'/plugins/deactivate'  => array( 'POST', 'wpfleet_agent_plugins_deactivate' ),
			'/plugins/delete'      => array( 'POST', 'wpfleet_agent_plugins_delete' ),
			'/plugins/update'      => array( 'POST', 'wpfleet_agent_plugins_update' ),
			'/plugins/auto-update' => array( 'POST', 'wpfleet_agent_plugins_auto_update' ),
		)
	);
}

/** A plugin as the list and every change report it; null when it is not installed. */
function wpfleet_agent_plugin_state( $file ) {
	$plugins = get_plugins();
	if ( ! isset( $plugins[ $file ] ) ) {
		return null;
	}
	$auto = (array) get_site_option( 'auto_update_plugins', array() );
	return array(
		'file'           => (string) $file,
		'slug'           => wpfleet_agent_plugin_slug( $file ),
		'name'           => (string) $plugins[ $file ]['Name'],
		'version'        => (string) $plugins[ $file ]['Version'],
		'active'         => is_plugin_active( $file ),
		'network_active' => is_multisite() && is_plugin_active_for_network( $file ),
		'auto_update'    => in_array( $file, $auto, true ),
	);
}

/** What an operation changed: the plugin's state before and after (null: not installed). */
function wpfleet_agent_plugin_change( $file, $before, $warnings = array() ) {
	wp_clean_plugins_cache( false );
	$after = wpfleet_agent_plugin_state( $file );
	$any   = null === $after ? $before : $after;
	return array(
		'file'               => (string) $file,
		'slug'               => wpfleet_agent_plugin_slug( $file ),
		'name'               => null === $any ? '' : $any['name'],
		'version_before'     => null === $before ? null : $before['version'],
		'version_after'      => null === $after ? null : $after['version'],
		'active_before'      => null !== $before && $before['active'],
		'active'             => null !== $after && $after['active'],
		'network_active'     => null !== $after && $after['network_active'],
		'auto_update_before' => null !== $before && $before['auto_update'],
		'auto_update'        => null !== $after && $after['auto_update'],
		'warnings'           => array_values( $warnings ),
	);
}

/** The installed plugin files whose slug is $slug, in get_plugins() order. */
function wpfleet_agent_plugin_files( $slug ) {
	$files = array();
	foreach ( array_keys( get_plugins() ) as $file ) {
		if ( wpfleet_agent_plugin_slug( $file ) === $slug ) {
			$files[] = (string) $file;
		}
	}
	return $files;
}

/**
 * The plugin a call names with `file` (akismet/akismet.php) or `slug` (akismet: the first plugin
 * file of that folder), or a WP_Error: a malformed name is invalid, an unknown one not_found
 * with validate_plugin()'s text.
 */
function wpfleet_agent_plugin_target( $body ) {
	if ( isset( $body['file'] ) ) {
		if ( ! wpfleet_agent_plugin_file_valid( $body['file'] ) ) {
			return wpfleet_agent_wp_error( 'invalid', 'file must be a plugin file relative to the plugins folder, like akismet/akismet.php.' );
		}
		$file = $body['file'];
	} elseif ( isset( $body['slug'] ) ) {
		if ( ! wpfleet_agent_slug_valid( $body['slug'] ) ) {
			return wpfleet_agent_wp_error( 'invalid', 'slug must be a plugin folder name, like akismet.' );
		}
		$files = wpfleet_agent_plugin_files( $body['slug'] );
		$file  = empty( $files ) ? $body['slug'] . '/' . $body['slug'] . '.php' : $files[0];
	} else {
		return wpfleet_agent_wp_error( 'invalid', 'Name the plugin with file or slug.' );
	}
	$valid = validate_plugin( $file );
	return is_wp_error( $valid ) ? wpfleet_agent_from_wp_error( $valid ) : $file;
}

/** Reads the body and loads wp-admin's functions; answers the body or a WP_Error. */
function wpfleet_agent_plugins_begin( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	wpfleet_agent_upgrader_load();
	wp_clean_plugins_cache( false );
	return $body;
}

function wpfleet_agent_plugins_list( $request ) {
	wpfleet_agent_upgrader_load();
	wp_clean_plugins_cache( false );
	$plugins = array();
	foreach ( array_keys( get_plugins() ) as $file ) {
		$plugins[] = wpfleet_agent_plugin_state( $file );
	}
	return array( 'plugins' => $plugins );
}

/**
 * activate_plugin() inside the fatal guard: a plugin that throws or dies while it loads is left
 * inactive (activate_plugin() records it only after it loaded) and the call answers the error.
 */
function wpfleet_agent_plugin_activate( $file, $network_wide, $silent, $message ) {
	return wpfleet_agent_guarded(
		wpfleet_agent_plain_text( $message ),
		function () use ( $file, $network_wide, $silent ) {
			return activate_plugin( $file, '', $network_wide, $silent );
		}
	);
}

function wpfleet_agent_plugins_install( $request ) {
	$body = wpfleet_agent_plugins_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$path      = wpfleet_agent_package_path( $body );
	$activate  = wpfleet_agent_body_flag( $body, 'activate', false );
	$overwrite = wpfleet_agent_body_flag( $body, 'overwrite', false );
	if ( is_wp_error( $path ) ) {
		return $path;
	}
	if ( null === $activate || null === $overwrite ) {
		return wpfleet_agent_wp_error( 'invalid', 'activate and overwrite must be true or false.' );
	}
	$before = array();
	foreach ( array_keys( get_plugins() ) as $file ) {
		$before[ $file ] = wpfleet_agent_plugin_state( $file );
	}
	$skin     = wpfleet_agent_upgrader_skin();
	$upgrader = new WPFleet_Agent_Plugin_Upgrader( $skin );
	$result   = $upgrader->install( $path, array( 'overwrite_package' => $overwrite ) );
	$failure  = wpfleet_agent_upgrader_failure( $result, $skin );
	if ( null !== $failure ) {
		return $failure;
	}
	wp_clean_plugins_cache( false );
	$file = $upgrader->plugin_info();
	if ( ! $file ) {
		return wpfleet_agent_wp_error( 'failed', 'WordPress installed the package but found no plugin in it.' );
	}
	$was      = isset( $before[ $file ] ) ? $before[ $file ] : null;
	$warnings = array();
	if ( $activate && ! is_plugin_active( $file ) ) {
		$activated = wpfleet_agent_plugin_activate( $file, false, false, __( 'Plugin could not be activated because it triggered a <strong>fatal error</strong>.' ) );
		if ( is_wp_error( $activated ) ) {
			if ( 'unexpected_output' !== $activated->get_error_code() ) {
				return wpfleet_agent_from_wp_error( $activated, 'The plugin ' . $file . ' was installed but not activated:' );
			}
			$warnings[] = wpfleet_agent_plain_text( $activated->get_error_message() );
		}
	}
	return wpfleet_agent_plugin_change( $file, $was, $warnings );
}

function wpfleet_agent_plugins_activate( $request ) {
	$body = wpfleet_agent_plugins_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$network = wpfleet_agent_body_flag( $body, 'network_wide', false );
	if ( null === $network ) {
		return wpfleet_agent_wp_error( 'invalid', 'network_wide must be true or false.' );
	}
	$file = wpfleet_agent_plugin_target( $body );
	if ( is_wp_error( $file ) ) {
		return $file;
	}
	$before = wpfleet_agent_plugin_state( $file );
	$result = wpfleet_agent_plugin_activate( $file, $network && is_multisite(), false, __( 'Plugin could not be activated because it triggered a <strong>fatal error</strong>.' ) );
	$warn   = array();
	if ( is_wp_error( $result ) ) {
		// The plugin is active but printed something while it loaded: WordPress says so, and so do we.
		if ( 'unexpected_output' !== $result->get_error_code() ) {
			return wpfleet_agent_from_wp_error( $result );
		}
		$warn = array( wpfleet_agent_plain_text( $result->get_error_message() ) );
	}
	return wpfleet_agent_plugin_change( $file, $before, $warn );
}

function wpfleet_agent_plugins_deactivate( $request ) {
	$body = wpfleet_agent_plugins_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$file = wpfleet_agent_plugin_target( $body );
	if ( is_wp_error( $file ) ) {
		return $file;
	}
	$before = wpfleet_agent_plugin_state( $file );
	deactivate_plugins( $file, false, is_multisite() && is_plugin_active_for_network( $file ) );
	return wpfleet_agent_plugin_change( $file, $before );
}

/**
 * Deletes every plugin file of a slug (its folder) with delete_plugins(), which runs the
 * plugin's uninstall code. An active plugin is refused, as wp-admin does, unless `deactivate`
 * is true (WP-CLI's `plugin uninstall --deactivate`): it is then deactivated first, with its
 * deactivation hooks.
 */
function wpfleet_agent_plugins_delete( $request ) {
	$body = wpfleet_agent_plugins_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$deactivate = wpfleet_agent_body_flag( $body, 'deactivate', false );
	if ( null === $deactivate ) {
		return wpfleet_agent_wp_error( 'invalid', 'deactivate must be true or false.' );
	}
	$file = wpfleet_agent_plugin_target( $body );
	if ( is_wp_error( $file ) ) {
		return $file;
	}
	$files  = wpfleet_agent_plugin_files( wpfleet_agent_plugin_slug( $file ) );
	$files  = false === strpos( $file, '/' ) ? array( $file ) : $files;
	$before = wpfleet_agent_plugin_state( $file );
	$active = array_values( array_filter( $files, 'is_plugin_active' ) );
	if ( ! empty( $active ) ) {
		if ( ! $deactivate ) {
			return wpfleet_agent_wp_error( 'conflict', wpfleet_agent_plain_text( __( 'You cannot delete a plugin while it is active on the main site.' ) ) );
		}
		foreach ( $active as $one ) {
			deactivate_plugins( $one, false, is_multisite() && is_plugin_active_for_network( $one ) );
		}
	}
	$result = wpfleet_agent_guarded(
		'The plugin\'s uninstall code triggered a fatal error.',
		function () use ( $files ) {
			ob_start();
			return delete_plugins( $files );
		}
	);
	if ( true !== $result ) {
		return is_wp_error( $result ) ? wpfleet_agent_from_wp_error( $result ) : wpfleet_agent_wp_error( 'failed', wpfleet_agent_plain_text( __( 'Could not access filesystem.' ) ) );
	}
	return wpfleet_agent_plugin_change( $file, $before );
}

/**
 * Updates (or downgrades) a plugin from a package with Plugin_Upgrader::upgrade(), as wp-admin's
 * update does: the plugin is deactivated silently, its folder replaced, and, if it was active,
 * activated again silently through activate_plugin()'s sandbox (wp-admin does this in a second
 * request; here the plugin's old code was never loaded in this request, see
 * wpfleet_agent_plugins_skip_updated()). The package must hold a valid plugin in a folder named
 * like the slug. If the new version dies while it loads, it stays installed but inactive, and
 * the call answers WordPress's "failed to reactivate" error.
 */
function wpfleet_agent_plugins_update( $request ) {
	$body = wpfleet_agent_plugins_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	if ( ! isset( $body['slug'] ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'Name the plugin with slug.' );
	}
	$file = wpfleet_agent_plugin_target( array( 'slug' => $body['slug'] ) );
	if ( is_wp_error( $file ) ) {
		return $file;
	}
	$path = wpfleet_agent_package_path( $body );
	if ( is_wp_error( $path ) ) {
		return $path;
	}
	$slug    = wpfleet_agent_plugin_slug( $file );
	$before  = wpfleet_agent_plugin_state( $file );
	$network = $before['network_active'];
	$offer   = function ( $current ) use ( $file, $slug, $path ) {
		$offer = is_object( $current ) ? clone $current : new stdClass();
		if ( ! isset( $offer->response ) || ! is_array( $offer->response ) ) {
			$offer->response = array();
		}
		$offer->response[ $file ] = (object) array(
			'slug'        => $slug,
			'plugin'      => $file,
			'new_version' => '',
			'package'     => $path,
		);
		return $offer;
	};
	$skin     = wpfleet_agent_upgrader_skin();
	$upgrader = new WPFleet_Agent_Plugin_Upgrader( $skin );
	$check    = wpfleet_agent_package_folder_check( $slug, array( $upgrader, 'check_package' ) );
	add_filter( 'site_transient_update_plugins', $offer );
	add_filter( 'upgrader_source_selection', $check, 10, 1 );
	$result = $upgrader->upgrade( $file );
	remove_filter( 'upgrader_source_selection', $check, 10 );
	remove_filter( 'site_transient_update_plugins', $offer );
	$failure = wpfleet_agent_upgrader_failure( $result, $skin );
	wp_clean_plugins_cache( false );
	if ( null !== $failure ) {
		// Nothing was replaced (WordPress checks the package before it clears the folder); the
		// plugin was only deactivated silently before the check, so it is activated back.
		if ( $before['active'] && ! is_plugin_active( $file ) && null !== wpfleet_agent_plugin_state( $file ) ) {
			wpfleet_agent_plugin_activate( $file, $network, true, __( 'Plugin failed to reactivate due to a fatal error.' ) );
		}
		return $failure;
	}
	if ( $before['active'] && ! is_plugin_active( $file ) ) {
		$result = wpfleet_agent_plugin_activate( $file, $network, true, __( 'Plugin failed to reactivate due to a fatal error.' ) );
		if ( is_wp_error( $result ) && 'unexpected_output' !== $result->get_error_code() ) {
			return wpfleet_agent_from_wp_error( $result, 'The plugin ' . $file . ' was updated but is now inactive:' );
		}
	}
	return wpfleet_agent_plugin_change( $file, $before );
}

function wpfleet_agent_plugins_auto_update( $request ) {
	$body = wpfleet_agent_plugins_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	if ( ! isset( $body['enabled'] ) || ! is_bool( $body['enabled'] ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'enabled must be true or false.' );
	}
	$file = wpfleet_agent_plugin_target( $body );
	if ( is_wp_error( $file ) ) {
		return $file;
	}
	$before = wpfleet_agent_plugin_state( $file );
	wpfleet_agent_set_auto_update( 'auto_update_plugins', $file, $body['enabled'], array_keys( get_plugins() ) );
	return wpfleet_agent_plugin_change( $file, $before );
}

/**
 * On a signed call to /plugins/update, the plugin being updated is not loaded with the others:
 * it is activated again, in this same request, from its new files, which would redeclare its
 * functions if the old ones were loaded. Other plugins load as usual. The signature is checked
 * here as for maintenance mode; the nonce is checked later, so a replayed call changes nothing.
 */
function wpfleet_agent_plugins_skip_updated() {
	$route = wpfleet_agent_request_route( $_SERVER, $_GET );
	if ( '/' . WPFLEET_AGENT_NAMESPACE . '/plugins/update' !== $route ) {
		return;
	}
	$raw = wpfleet_agent_raw_body();
	if ( ! wpfleet_agent_request_is_signed( wpfleet_agent_secret(), $_SERVER, $_GET, $raw, time() ) ) {
		return;
	}
	$body = json_decode( $raw, true );
	$slug = is_array( $body ) && isset( $body['slug'] ) ? $body['slug'] : null;
	if ( ! wpfleet_agent_slug_valid( $slug ) ) {
		return;
	}
	$others   = function ( $plugins ) use ( $slug ) {
		$kept = array();
		foreach ( (array) $plugins as $key => $value ) {
			$file = is_int( $key ) ? $value : $key;
			if ( wpfleet_agent_plugin_slug( $file ) !== $slug ) {
				$kept[ $key ] = $value;
			}
		}
		return is_int( key( (array) $plugins ) ) ? array_values( $kept ) : $kept;
	};
	$restore = function () use ( $others ) {
		remove_filter( 'option_active_plugins', $others, PHP_INT_MAX );
		remove_filter( 'site_option_active_sitewide_plugins', $others, PHP_INT_MAX );
	};
	add_filter( 'option_active_plugins', $others, PHP_INT_MAX );
	add_filter( 'site_option_active_sitewide_plugins', $others, PHP_INT_MAX );
	add_action( 'plugins_loaded', $restore, PHP_INT_MIN );
}

// After every module has loaded (they load in name order), before the plugins do.
if ( function_exists( 'add_action' ) ) {
	add_action( 'muplugins_loaded', 'wpfleet_agent_plugins_skip_updated' );
}
