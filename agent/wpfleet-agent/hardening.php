<?php
/**
 * Hardening: the custom login path.
 *
 * When wp-config.php defines WPFLEET_LOGIN_PATH (a slug such as `my-login`, written by wpfleet
 * from the install's settings), the edge answers 404 for /wp-login.php and serves /<slug> with
 * WordPress's wp-login.php. This module makes WordPress's own links and redirects use /<slug>:
 * the login URL, the login form's action, lost password, logout, registration and the agent's
 * single-use login links all go through site_url() / network_site_url() / wp_redirect. wp-admin
 * does not send a logged-out visitor to /<slug> (that would tell the slug to anyone): it answers
 * 404, as the edge does for /wp-login.php. See docs/operations.md.
 *
 * Pure functions first (tested without WordPress); must parse and run on PHP 7.4 to 8.5.
 */

/** The slug WPFLEET_LOGIN_PATH names, or null when it is not defined or not a valid slug. */
function wpfleet_agent_login_slug() {
	if ( ! defined( 'WPFLEET_LOGIN_PATH' ) || ! is_string( WPFLEET_LOGIN_PATH ) ) {
		return null;
	}
	return wpfleet_agent_login_slug_valid( WPFLEET_LOGIN_PATH ) ? WPFLEET_LOGIN_PATH : null;
}

/** The rule wpfleet checks a login slug with: 3 to 64 of [a-z0-9-], no hyphen at either end. */
function wpfleet_agent_login_slug_valid( $slug ) {
	return is_string( $slug ) && 1 === preg_match( '/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/D', $slug );
}

/**
 * $url with its wp-login.php (absolute, root-relative or relative, as wp-login.php redirects
 * use) replaced by $slug, the query and fragment kept. Any other URL is returned unchanged.
 */
function wpfleet_agent_login_path_url( $url, $slug ) {
	if ( ! is_string( $url ) || false === strpos( $url, 'wp-login.php' ) ) {
		return $url;
	}
	$cut  = strcspn( $url, '?#' );
	$path = substr( $url, 0, $cut );
	if ( ! preg_match( '#(^|/)wp-login\.php$#D', $path ) ) {
		return $url;
	}
	return substr( $path, 0, -strlen( 'wp-login.php' ) ) . $slug . substr( $url, $cut );
}

/** Whether a URL (absolute or not) leads to the custom login path. */
function wpfleet_agent_is_login_path_url( $url, $slug ) {
	if ( ! is_string( $url ) ) {
		return false;
	}
	$path = parse_url( $url, PHP_URL_PATH );
	return is_string( $path ) && 1 === preg_match( '#(^|/)' . preg_quote( $slug, '#' ) . '/?$#D', $path );
}

// ---------------------------------------------------------------------------------------------
// WordPress.
// ---------------------------------------------------------------------------------------------

/** Filter for site_url, network_site_url, login_url and the other login links. */
function wpfleet_agent_login_filter_url( $url ) {
	$slug = wpfleet_agent_login_slug();
	return null === $slug ? $url : wpfleet_agent_login_path_url( $url, $slug );
}

/**
 * Filter for wp_redirect: wp-login.php's own redirects (checkemail, loggedout) go to the custom
 * path; wp-admin's redirect of a logged-out visitor to the login page (auth_redirect) becomes a
 * 404, so that wp-admin never tells the custom path to whoever asks.
 */
function wpfleet_agent_login_filter_redirect( $location ) {
	$slug = wpfleet_agent_login_slug();
	if ( null === $slug ) {
		return $location;
	}
	$location = wpfleet_agent_login_path_url( $location, $slug );
	if ( is_admin() && ! wp_doing_ajax() && ! is_user_logged_in() && wpfleet_agent_is_login_path_url( $location, $slug ) ) {
		wpfleet_agent_login_not_found();
	}
	return $location;
}

/** The same answer the edge gives for /wp-login.php while it is hidden. */
function wpfleet_agent_login_not_found() {
	if ( ! headers_sent() ) {
		status_header( 404 );
		nocache_headers();
		header( 'Content-Type: text/plain; charset=utf-8' );
	}
	echo "Not Found\n";
	exit;
}

if ( function_exists( 'add_filter' ) && null !== wpfleet_agent_login_slug() ) {
	foreach ( array( 'site_url', 'network_site_url', 'login_url', 'logout_url', 'lostpassword_url', 'register_url' ) as $wpfleet_agent_hook ) {
		add_filter( $wpfleet_agent_hook, 'wpfleet_agent_login_filter_url', 100 );
	}
	unset( $wpfleet_agent_hook );
	add_filter( 'wp_redirect', 'wpfleet_agent_login_filter_redirect', 100 );
	// /login, /admin, /dashboard and /wp-login would redirect to the login page (or to wp-admin,
	// and from there to it): they answer WordPress's 404 page instead.
	remove_action( 'template_redirect', 'wp_redirect_admin_locations', 1000 );
}
