<?php
/**
 * Themes: list, install, activate, delete, update, auto-update; and translations: update. Each
 * with WordPress's own functions and upgraders, answering what changed. Errors carry WordPress's
 * own text. See docs/operations.md.
 */

if ( function_exists( 'wpfleet_agent_routes' ) ) {
	wpfleet_agent_routes(
		array(
			'/themes'              => array( 'GET', 'wpfleet_agent_themes_list' ),
			'/themes/install'      => array( 'POST', 'wpfleet_agent_themes_install' ),
			'/themes/activate'     => array( 'POST', 'wpfleet_agent_themes_activate' ),
			'/themes/delete'       => array( 'POST', 'wpfleet_agent_themes_delete' ),
			'/themes/update'       => array( 'POST', 'wpfleet_agent_themes_update' ),
			'/themes/auto-update'  => array( 'POST', 'wpfleet_agent_themes_auto_update' ),
			'/translations/update' => array( 'POST', 'wpfleet_agent_translations_update' ),
		)
	);
}

/** A theme as the list and every change report it; null when it is not installed. */
function wpfleet_agent_theme_state( $stylesheet ) {
	$theme = wp_get_theme( $stylesheet );
	if ( ! $theme->exists() ) {
		return null;
	}
	$template = (string) $theme->get_template();
	return array(
		'stylesheet'  => (string) $stylesheet,
		'name'        => (string) $theme->get( 'Name' ),
		'version'     => (string) $theme->get( 'Version' ),
		'active'      => get_stylesheet() === $stylesheet,
		'parent'      => $template !== $stylesheet && '' !== $template ? $template : null,
		'auto_update' => in_array( $stylesheet, (array) get_site_option( 'auto_update_themes', array() ), true ),
	);
}

/** What an operation changed: the theme's state before and after (null: not installed). */
function wpfleet_agent_theme_change( $stylesheet, $before ) {
	// The request's cache still holds a deleted theme's headers, and WP_Theme trusts them.
	wp_get_theme( $stylesheet )->cache_delete();
	wp_clean_themes_cache( false );
	$after = wpfleet_agent_theme_state( $stylesheet );
	$any   = null === $after ? $before : $after;
	return array(
		'stylesheet'         => (string) $stylesheet,
		'name'               => null === $any ? '' : $any['name'],
		'version_before'     => null === $before ? null : $before['version'],
		'version_after'      => null === $after ? null : $after['version'],
		'active_before'      => null !== $before && $before['active'],
		'active'             => null !== $after && $after['active'],
		'parent'             => null === $any ? null : $any['parent'],
		'auto_update_before' => null !== $before && $before['auto_update'],
		'auto_update'        => null !== $after && $after['auto_update'],
		'warnings'           => array(),
	);
}

/** Reads the body and loads wp-admin's functions; answers the body or a WP_Error. */
function wpfleet_agent_themes_begin( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	wpfleet_agent_upgrader_load();
	wp_clean_themes_cache( false );
	return $body;
}

/** The installed theme a call names with `stylesheet`, or a WP_Error. */
function wpfleet_agent_theme_target( $body ) {
	$stylesheet = isset( $body['stylesheet'] ) ? $body['stylesheet'] : null;
	if ( ! wpfleet_agent_slug_valid( $stylesheet ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'stylesheet must be a theme folder name, like twentytwentythree.' );
	}
	if ( ! wp_get_theme( $stylesheet )->exists() ) {
		return wpfleet_agent_wp_error( 'not_found', wpfleet_agent_plain_text( __( 'The requested theme does not exist.' ) ) );
	}
	return $stylesheet;
}

function wpfleet_agent_themes_list( $request ) {
	wpfleet_agent_upgrader_load();
	wp_clean_themes_cache( false );
	$themes = array();
	foreach ( array_keys( wp_get_themes() ) as $stylesheet ) {
		$themes[] = wpfleet_agent_theme_state( (string) $stylesheet );
	}
	return array( 'themes' => $themes );
}

/**
 * switch_theme() to an installed theme that WordPress finds whole: a broken theme (no
 * stylesheet, no template file, a missing parent) answers WordPress's own description of it.
 */
function wpfleet_agent_theme_switch( $stylesheet ) {
	$theme  = wp_get_theme( $stylesheet );
	$errors = $theme->errors();
	if ( is_wp_error( $errors ) ) {
		return wpfleet_agent_from_wp_error( $errors );
	}
	if ( ! $theme->is_allowed() ) {
		return wpfleet_agent_wp_error( 'failed', wpfleet_agent_plain_text( __( 'The requested theme does not exist.' ) ) );
	}
	switch_theme( $theme->get_stylesheet() );
	return null;
}

function wpfleet_agent_themes_install( $request ) {
	$body = wpfleet_agent_themes_begin( $request );
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
	foreach ( array_keys( wp_get_themes() ) as $stylesheet ) {
		$before[ $stylesheet ] = wpfleet_agent_theme_state( (string) $stylesheet );
	}
	$skin     = wpfleet_agent_upgrader_skin();
	$upgrader = new WPFleet_Agent_Theme_Upgrader( $skin );
	$result   = $upgrader->install( $path, array( 'overwrite_package' => $overwrite ) );
	$failure  = wpfleet_agent_upgrader_failure( $result, $skin );
	if ( null !== $failure ) {
		return $failure;
	}
	wp_clean_themes_cache( false );
	$theme = $upgrader->theme_info();
	if ( ! $theme ) {
		return wpfleet_agent_wp_error( 'failed', 'WordPress installed the package but found no theme in it.' );
	}
	$stylesheet = $theme->get_stylesheet();
	$was        = isset( $before[ $stylesheet ] ) ? $before[ $stylesheet ] : null;
	if ( $activate && get_stylesheet() !== $stylesheet ) {
		$switched = wpfleet_agent_theme_switch( $stylesheet );
		if ( null !== $switched ) {
			return new WP_Error( $switched->get_error_code(), 'The theme ' . $stylesheet . ' was installed but not activated: ' . $switched->get_error_message(), $switched->get_error_data() );
		}
	}
	return wpfleet_agent_theme_change( $stylesheet, $was );
}

function wpfleet_agent_themes_activate( $request ) {
	$body = wpfleet_agent_themes_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$stylesheet = wpfleet_agent_theme_target( $body );
	if ( is_wp_error( $stylesheet ) ) {
		return $stylesheet;
	}
	$before   = wpfleet_agent_theme_state( $stylesheet );
	$switched = wpfleet_agent_theme_switch( $stylesheet );
	return null === $switched ? wpfleet_agent_theme_change( $stylesheet, $before ) : $switched;
}

/**
 * delete_theme(); the active theme and the parent of the active theme are refused with
 * wp-admin's own messages (delete_theme() itself would delete them).
 */
function wpfleet_agent_themes_delete( $request ) {
	$body = wpfleet_agent_themes_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$stylesheet = wpfleet_agent_theme_target( $body );
	if ( is_wp_error( $stylesheet ) ) {
		return $stylesheet;
	}
	if ( get_stylesheet() === $stylesheet ) {
		return wpfleet_agent_wp_error( 'conflict', wpfleet_agent_plain_text( __( 'You cannot delete a theme while it is active on the main site.' ) ) );
	}
	if ( get_template() === $stylesheet ) {
		return wpfleet_agent_wp_error( 'conflict', wpfleet_agent_plain_text( __( 'You cannot delete a theme while it has an active child theme.' ) ) );
	}
	$before = wpfleet_agent_theme_state( $stylesheet );
	ob_start();
	$result = delete_theme( $stylesheet );
	ob_end_clean();
	if ( true !== $result ) {
		return is_wp_error( $result ) ? wpfleet_agent_from_wp_error( $result ) : wpfleet_agent_wp_error( 'failed', wpfleet_agent_plain_text( __( 'Could not access filesystem.' ) ) );
	}
	return wpfleet_agent_theme_change( $stylesheet, $before );
}

/**
 * Updates (or downgrades) a theme from a package with Theme_Upgrader::upgrade(), as wp-admin's
 * update does; the active theme stays active, and the install is in maintenance mode (its own
 * flag) while its files are replaced. The package must hold a valid theme in a folder named like
 * the stylesheet.
 */
function wpfleet_agent_themes_update( $request ) {
	$body = wpfleet_agent_themes_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$stylesheet = wpfleet_agent_theme_target( $body );
	if ( is_wp_error( $stylesheet ) ) {
		return $stylesheet;
	}
	$path = wpfleet_agent_package_path( $body );
	if ( is_wp_error( $path ) ) {
		return $path;
	}
	$before = wpfleet_agent_theme_state( $stylesheet );
	$offer  = function ( $current ) use ( $stylesheet, $path ) {
		$offer = is_object( $current ) ? clone $current : new stdClass();
		if ( ! isset( $offer->response ) || ! is_array( $offer->response ) ) {
			$offer->response = array();
		}
		$offer->response[ $stylesheet ] = array(
			'theme'       => $stylesheet,
			'new_version' => '',
			'url'         => '',
			'package'     => $path,
		);
		return $offer;
	};
	$skin     = wpfleet_agent_upgrader_skin();
	$upgrader = new WPFleet_Agent_Theme_Upgrader( $skin );
	$check    = wpfleet_agent_package_folder_check( $stylesheet, array( $upgrader, 'check_package' ) );
	add_filter( 'site_transient_update_themes', $offer );
	add_filter( 'upgrader_source_selection', $check, 10, 1 );
	$result = $upgrader->upgrade( $stylesheet );
	remove_filter( 'upgrader_source_selection', $check, 10 );
	remove_filter( 'site_transient_update_themes', $offer );
	wpfleet_agent_upgrade_maintenance( false );
	$failure = wpfleet_agent_upgrader_failure( $result, $skin );
	if ( null !== $failure ) {
		return $failure;
	}
	return wpfleet_agent_theme_change( $stylesheet, $before );
}

function wpfleet_agent_themes_auto_update( $request ) {
	$body = wpfleet_agent_themes_begin( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	if ( ! isset( $body['enabled'] ) || ! is_bool( $body['enabled'] ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'enabled must be true or false.' );
	}
	$stylesheet = wpfleet_agent_theme_target( $body );
	if ( is_wp_error( $stylesheet ) ) {
		return $stylesheet;
	}
	$before = wpfleet_agent_theme_state( $stylesheet );
	wpfleet_agent_set_auto_update( 'auto_update_themes', $stylesheet, $body['enabled'], array_keys( wp_get_themes() ) );
	return wpfleet_agent_theme_change( $stylesheet, $before );
}

/**
 * Language_Pack_Upgrader over wp_get_translation_updates(): the updates WordPress learnt of at
 * its last update check (offline there are normally none). Each is reported as updated or failed
 * with WordPress's error text.
 */
function wpfleet_agent_translations_update( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	wpfleet_agent_upgrader_load();
	$updates = array_values( (array) wp_get_translation_updates() );
	$answer  = array(
		'updated' => array(),
		'failed'  => array(),
	);
	if ( empty( $updates ) ) {
		return $answer;
	}
	$skin     = wpfleet_agent_upgrader_skin();
	$upgrader = new WPFleet_Agent_Language_Pack_Upgrader( $skin );
	$results  = $upgrader->bulk_upgrade( $updates );
	$whole    = is_array( $results ) ? null : wpfleet_agent_upgrader_failure( $results, $skin );
	foreach ( $updates as $i => $update ) {
		$item   = array(
			'type'     => (string) $update->type,
			'slug'     => isset( $update->slug ) ? (string) $update->slug : 'default',
			'language' => (string) $update->language,
			'version'  => (string) $update->version,
		);
		$result = is_array( $results ) && array_key_exists( $i, $results ) ? $results[ $i ] : false;
		if ( is_wp_error( $result ) ) {
			$item['message']    = wpfleet_agent_from_wp_error( $result )->get_error_message();
			$answer['failed'][] = $item;
		} elseif ( false === $result || null === $result ) {
			$item['message']    = null === $whole ? 'WordPress did not try this update.' : $whole->get_error_message();
			$answer['failed'][] = $item;
		} else {
			$answer['updated'][] = $item;
		}
	}
	return $answer;
}
