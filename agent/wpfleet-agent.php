<?php
/**
 * Plugin Name: wpfleet agent
 * Description: Lets the wpfleet control plane manage this WordPress through signed REST calls.
 * Version: 1.0.0
 * Requires PHP: 7.4
 * License: MIT
 *
 * Installed as wp-content/mu-plugins/wpfleet-agent.php. Routes live under /wp-json/wpfleet/v1/
 * (or /?rest_route=/wpfleet/v1/ with plain permalinks). Every call carries
 *   X-Wpfleet-Timestamp  unix seconds
 *   X-Wpfleet-Nonce      16 to 128 characters of [A-Za-z0-9_-], never reused
 *   X-Wpfleet-Signature  hex HMAC-SHA256, keyed with WPFLEET_AGENT_SECRET (from wp-config.php),
 *                        of METHOD "\n" ROUTE "\n" TIMESTAMP "\n" NONCE "\n" sha256hex(BODY)
 * ROUTE is the REST route (/wpfleet/v1/info), never the URL. See docs/agent.md.
 *
 * The functions down to the WordPress section are pure (no WordPress needed), so they can be
 * tested alone. Must parse and run on PHP 7.4 to 8.5: no union types, match, nullsafe, named
 * arguments or str_* helpers of PHP 8.
 */

define( 'WPFLEET_AGENT_VERSION', '1.0.0' );
define( 'WPFLEET_AGENT_NAMESPACE', 'wpfleet/v1' );
define( 'WPFLEET_AGENT_MAX_SKEW', 300 );
define( 'WPFLEET_AGENT_NONCE_PREFIX', 'wpfleet_agent_nonce_' );
define( 'WPFLEET_AGENT_LOGIN_PREFIX', 'wpfleet_agent_login_' );
define( 'WPFLEET_AGENT_MAINTENANCE_FILE', '.wpfleet-maintenance' );

// ---------------------------------------------------------------------------------------------
// Pure functions.
// ---------------------------------------------------------------------------------------------

/** The string that is signed. Fields are checked by wpfleet_agent_verify() first. */
function wpfleet_agent_canonical( $method, $path, $timestamp, $nonce, $body ) {
	return strtoupper( $method ) . "\n" . $path . "\n" . $timestamp . "\n" . $nonce . "\n" . hash( 'sha256', $body );
}

/** Hex HMAC-SHA256 of the canonical string; the key is the secret string as written. */
function wpfleet_agent_sign( $secret, $method, $path, $timestamp, $nonce, $body ) {
	return hash_hmac( 'sha256', wpfleet_agent_canonical( $method, $path, $timestamp, $nonce, $body ), $secret );
}

/**
 * Checks a call's signature and clock. Returns null when it is good, else an error code:
 * not_configured (no secret, or one shorter than 32 characters), unsigned (a header missing or
 * malformed), bad_signature, late (timestamp more than 300 s from $now). Nonce reuse is checked
 * by the caller, after this passes.
 */
function wpfleet_agent_verify( $secret, $method, $path, $timestamp, $nonce, $body, $signature, $now ) {
	if ( ! is_string( $secret ) || strlen( $secret ) < 32 ) {
		return 'not_configured';
	}
	foreach ( array( $method, $path, $timestamp, $nonce, $body, $signature ) as $field ) {
		if ( ! is_string( $field ) ) {
			return 'unsigned';
		}
	}
	if ( ! preg_match( '/^[A-Za-z]{1,16}$/D', $method )
		|| ! preg_match( '#^/[^\n]*$#D', $path )
		|| ! preg_match( '/^[0-9]{1,12}$/D', $timestamp )
		|| ! preg_match( '/^[A-Za-z0-9_-]{16,128}$/D', $nonce )
		|| ! preg_match( '/^[0-9a-fA-F]{64}$/D', $signature ) ) {
		return 'unsigned';
	}
	$expected = wpfleet_agent_sign( $secret, $method, $path, $timestamp, $nonce, $body );
	if ( ! hash_equals( $expected, strtolower( $signature ) ) ) {
		return 'bad_signature';
	}
	if ( abs( (int) $now - (int) $timestamp ) > WPFLEET_AGENT_MAX_SKEW ) {
		return 'late';
	}
	return null;
}

/** HTTP status and message for each error code the agent answers with. */
function wpfleet_agent_error( $code ) {
	$errors = array(
		'not_configured' => array( 503, 'The agent has no secret: define WPFLEET_AGENT_SECRET (32+ characters) in wp-config.php.' ),
		'unsigned'       => array( 401, 'The call is not signed: X-Wpfleet-Timestamp, X-Wpfleet-Nonce and X-Wpfleet-Signature are required.' ),
		'bad_signature'  => array( 401, 'The signature does not match.' ),
		'late'           => array( 401, 'The timestamp is more than 300 seconds away from the server clock.' ),
		'replayed'       => array( 401, 'This nonce was already used.' ),
		'invalid'        => array( 400, 'The request body is not valid.' ),
		'not_found'      => array( 404, 'Not found.' ),
		'conflict'       => array( 409, 'The operation conflicts with the state of the site.' ),
		'failed'         => array( 500, 'The operation failed.' ),
	);
	return isset( $errors[ $code ] ) ? $errors[ $code ] : array( 500, 'The operation failed.' );
}

/**
 * The REST route a raw request asks for (before WordPress has parsed it), from ?rest_route= or a
 * /wp-json/ path; null if it is not a REST request. Used only to let signed calls through
 * maintenance mode; the REST server's own route is what the signature is checked against later.
 */
function wpfleet_agent_request_route( array $server, array $get ) {
	if ( isset( $get['rest_route'] ) && is_string( $get['rest_route'] ) ) {
		$route = $get['rest_route'];
	} else {
		$uri  = isset( $server['REQUEST_URI'] ) ? (string) $server['REQUEST_URI'] : '';
		$path = (string) parse_url( $uri, PHP_URL_PATH );
		$at   = strpos( $path, '/wp-json/' );
		if ( false === $at ) {
			return null;
		}
		$route = substr( $path, $at + strlen( '/wp-json' ) );
	}
	$route = rtrim( $route, '/' );
	return '' === $route ? '/' : $route;
}

/** Whether a raw request is a correctly signed, timely call to an agent route (nonce not checked). */
function wpfleet_agent_request_is_signed( $secret, array $server, array $get, $body, $now ) {
	$route = wpfleet_agent_request_route( $server, $get );
	if ( null === $route || 0 !== strpos( $route, '/' . WPFLEET_AGENT_NAMESPACE . '/' ) ) {
		return false;
	}
	$header = function ( $name ) use ( $server ) {
		return isset( $server[ $name ] ) ? $server[ $name ] : null;
	};
	return null === wpfleet_agent_verify(
		$secret,
		$header( 'REQUEST_METHOD' ),
		$route,
		$header( 'HTTP_X_WPFLEET_TIMESTAMP' ),
		$header( 'HTTP_X_WPFLEET_NONCE' ),
		$body,
		$header( 'HTTP_X_WPFLEET_SIGNATURE' ),
		$now
	);
}

/** An absolute http(s) URL with no query, fragment or whitespace, without trailing slash; else null. */
function wpfleet_agent_normalize_url( $url ) {
	if ( ! is_string( $url ) || strlen( $url ) > 2048 ) {
		return null;
	}
	if ( ! preg_match( '#^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s?\#]*)?$#Di', $url ) ) {
		return null;
	}
	$host = parse_url( $url, PHP_URL_HOST );
	if ( ! is_string( $host ) || '' === $host ) {
		return null;
	}
	return rtrim( $url, '/' );
}

/** Stored value of a one-time record: expiry and an optional payload, "expires:payload". */
function wpfleet_agent_record( $expires, $payload ) {
	return (int) $expires . ':' . $payload;
}

/** Expiry and payload of a stored record. */
function wpfleet_agent_parse_record( $value ) {
	$parts = explode( ':', (string) $value, 2 );
	return array( (int) $parts[0], isset( $parts[1] ) ? $parts[1] : '' );
}

// ---------------------------------------------------------------------------------------------
// WordPress.
// ---------------------------------------------------------------------------------------------

/** The install's secret from wp-config.php, or '' when it is not defined. */
function wpfleet_agent_secret() {
	return defined( 'WPFLEET_AGENT_SECRET' ) && is_string( WPFLEET_AGENT_SECRET ) ? WPFLEET_AGENT_SECRET : '';
}

/** The request body as received, for the signature check before WordPress reads it. */
function wpfleet_agent_raw_body() {
	$body = file_get_contents( 'php://input' );
	return is_string( $body ) ? $body : '';
}

/** A WP_Error that the REST server turns into {code, message, data: {status}}. */
function wpfleet_agent_wp_error( $code, $message = null ) {
	$error = wpfleet_agent_error( $code );
	return new WP_Error( $code, null === $message ? $error[1] : $message, array( 'status' => $error[0] ) );
}

/**
 * Adds a one-time record to the options table, or returns false when the name exists. A plain
 * INSERT on the unique option_name, so of two identical concurrent calls only one succeeds
 * (add_option() is not atomic: it upserts).
 */
function wpfleet_agent_store_add( $name, $value ) {
	global $wpdb;
	$suppress = $wpdb->suppress_errors( true );
	$result   = $wpdb->query(
		$wpdb->prepare( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no')", $name, $value )
	);
	$wpdb->suppress_errors( $suppress );
	return false !== $result && (int) $result > 0;
}

/** Removes a one-time record and returns its value, or null if another request took it first. */
function wpfleet_agent_store_take( $name ) {
	global $wpdb;
	$value = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", $name ) );
	if ( null === $value ) {
		return null;
	}
	$deleted = $wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name = %s", $name ) );
	return 1 === (int) $deleted ? (string) $value : null;
}

/** Deletes expired records under a prefix (a few hundred at a time). */
function wpfleet_agent_store_prune( $prefix, $now ) {
	global $wpdb;
	// Unescaped "_" in LIKE matches any character: harmless, the prefix is checked below.
	$rows = $wpdb->get_results( "SELECT option_name, option_value FROM {$wpdb->options} WHERE option_name LIKE '" . esc_sql( $prefix ) . "%' LIMIT 500" );
	foreach ( (array) $rows as $row ) {
		$record = wpfleet_agent_parse_record( $row->option_value );
		if ( 0 === strpos( $row->option_name, $prefix ) && $record[0] < $now ) {
			$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name = %s", $row->option_name ) );
		}
	}
}

/** REST permission callback: signature, clock, then the nonce (remembered until it could no longer pass). */
function wpfleet_agent_authorize( $request ) {
	$now   = time();
	$nonce = $request->get_header( 'X-Wpfleet-Nonce' );
	$code  = wpfleet_agent_verify(
		wpfleet_agent_secret(),
		$request->get_method(),
		$request->get_route(),
		$request->get_header( 'X-Wpfleet-Timestamp' ),
		$nonce,
		(string) $request->get_body(),
		$request->get_header( 'X-Wpfleet-Signature' ),
		$now
	);
	if ( null !== $code ) {
		return wpfleet_agent_wp_error( $code );
	}
	$expires = (int) $request->get_header( 'X-Wpfleet-Timestamp' ) + WPFLEET_AGENT_MAX_SKEW + 1;
	wpfleet_agent_store_prune( WPFLEET_AGENT_NONCE_PREFIX, $now );
	if ( ! wpfleet_agent_store_add( WPFLEET_AGENT_NONCE_PREFIX . hash( 'sha256', $nonce ), wpfleet_agent_record( $expires, '' ) ) ) {
		return wpfleet_agent_wp_error( 'replayed' );
	}
	return true;
}

/** The signed JSON body as an array ({} when empty); query parameters are never read. */
function wpfleet_agent_body( $request ) {
	$body = (string) $request->get_body();
	$data = '' === $body ? array() : json_decode( $body, true );
	return is_array( $data ) ? $data : wpfleet_agent_wp_error( 'invalid', 'The body must be a JSON object.' );
}

/**
 * The agent's routes, route => array( METHOD, callback ). Modules (wpfleet-agent/*.php) add theirs
 * by calling this with an array as they load; every call answers the whole table.
 */
function wpfleet_agent_routes( $add = array() ) {
	static $routes = array(
		'/info'        => array( 'GET', 'wpfleet_agent_info' ),
		'/cache/flush' => array( 'POST', 'wpfleet_agent_cache_flush' ),
		'/urls'        => array( 'POST', 'wpfleet_agent_urls' ),
		'/login-link'  => array( 'POST', 'wpfleet_agent_login_link' ),
		'/maintenance' => array( 'POST', 'wpfleet_agent_maintenance' ),
	);
	$routes = array_merge( $routes, $add );
	return $routes;
}

function wpfleet_agent_register_routes() {
	foreach ( wpfleet_agent_routes() as $route => $spec ) {
		register_rest_route(
			WPFLEET_AGENT_NAMESPACE,
			$route,
			array(
				'methods'             => $spec[0],
				'callback'            => $spec[1],
				'permission_callback' => 'wpfleet_agent_authorize',
			)
		);
	}
}

/** Agent answers are never cached: REST sends no-cache headers only to logged-in users. */
function wpfleet_agent_no_store( $response, $server, $request ) {
	if ( $response instanceof WP_REST_Response && 0 === strpos( (string) $request->get_route(), '/' . WPFLEET_AGENT_NAMESPACE . '/' ) ) {
		$response->header( 'Cache-Control', 'no-store, private' );
	}
	return $response;
}

function wpfleet_agent_info( $request ) {
	require_once ABSPATH . 'wp-admin/includes/plugin.php';
	$plugins = array();
	foreach ( get_plugins() as $file => $data ) {
		$plugins[] = array(
			'file'    => (string) $file,
			'name'    => (string) $data['Name'],
			'version' => (string) $data['Version'],
			'active'  => is_plugin_active( $file ),
		);
	}
	$themes  = array();
	$current = get_stylesheet();
	foreach ( wp_get_themes() as $stylesheet => $theme ) {
		$themes[] = array(
			'stylesheet' => (string) $stylesheet,
			'name'       => (string) $theme->get( 'Name' ),
			'version'    => (string) $theme->get( 'Version' ),
			'active'     => (string) $stylesheet === $current,
		);
	}
	$users = new WP_User_Query(
		array(
			'blog_id'     => get_current_blog_id(),
			'fields'      => 'ID',
			'number'      => 1,
			'count_total' => true,
		)
	);
	return array(
		'agent_version'     => WPFLEET_AGENT_VERSION,
		'wordpress_version' => (string) get_bloginfo( 'version' ),
		'php_version'       => PHP_VERSION,
		'plugins'           => $plugins,
		'themes'            => $themes,
		'users_count'       => (int) $users->get_total(),
		'home'              => (string) get_option( 'home' ),
		'siteurl'           => (string) get_option( 'siteurl' ),
		'multisite'         => is_multisite(),
		'maintenance'       => wpfleet_agent_maintenance_on(),
	);
}

function wpfleet_agent_cache_flush( $request ) {
	return array( 'flushed' => (bool) wp_cache_flush() );
}

/** Sets home and siteurl through update_option(), which takes care of serialization and caches. */
function wpfleet_agent_urls( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$home    = wpfleet_agent_normalize_url( isset( $body['home'] ) ? $body['home'] : null );
	$siteurl = wpfleet_agent_normalize_url( isset( $body['siteurl'] ) ? $body['siteurl'] : null );
	if ( null === $home || null === $siteurl ) {
		return wpfleet_agent_wp_error( 'invalid', 'home and siteurl must be absolute http(s) URLs without query or fragment.' );
	}
	update_option( 'home', $home );
	update_option( 'siteurl', $siteurl );
	// Read back: WP_HOME / WP_SITEURL in wp-config.php, if defined, win over the options.
	return array(
		'home'    => (string) get_option( 'home' ),
		'siteurl' => (string) get_option( 'siteurl' ),
	);
}

/** A single-use wp-login.php link for a user (default: the first administrator). */
function wpfleet_agent_login_link( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$ttl = array_key_exists( 'ttl', $body ) ? $body['ttl'] : 300;
	if ( ! is_int( $ttl ) || $ttl < 1 || $ttl > 3600 ) {
		return wpfleet_agent_wp_error( 'invalid', 'ttl must be an integer from 1 to 3600 seconds.' );
	}
	if ( array_key_exists( 'user_id', $body ) && null !== $body['user_id'] ) {
		if ( ! is_int( $body['user_id'] ) || $body['user_id'] < 1 ) {
			return wpfleet_agent_wp_error( 'invalid', 'user_id must be a positive integer.' );
		}
		$user = get_userdata( $body['user_id'] );
		if ( ! $user ) {
			return wpfleet_agent_wp_error( 'not_found', 'No user with that id.' );
		}
	} else {
		$admins = get_users(
			array(
				'role'    => 'administrator',
				'orderby' => 'ID',
				'order'   => 'ASC',
				'number'  => 1,
			)
		);
		if ( empty( $admins ) ) {
			return wpfleet_agent_wp_error( 'not_found', 'This site has no administrator.' );
		}
		$user = $admins[0];
	}
	$now     = time();
	$token   = bin2hex( random_bytes( 32 ) );
	$expires = $now + $ttl;
	wpfleet_agent_store_prune( WPFLEET_AGENT_LOGIN_PREFIX, $now );
	if ( ! wpfleet_agent_store_add( WPFLEET_AGENT_LOGIN_PREFIX . hash( 'sha256', $token ), wpfleet_agent_record( $expires, (string) $user->ID ) ) ) {
		return wpfleet_agent_wp_error( 'failed', 'Could not store the login token.' );
	}
	return array(
		'url'        => add_query_arg( 'wpfleet_login', $token, site_url( 'wp-login.php', 'login' ) ),
		'user_id'    => (int) $user->ID,
		'user_login' => (string) $user->user_login,
		'expires_at' => $expires,
	);
}

/** On wp-login.php?wpfleet_login=TOKEN: consume the token, log the user in, go to wp-admin. */
function wpfleet_agent_consume_login() {
	if ( ! isset( $_GET['wpfleet_login'] ) || ! is_string( $_GET['wpfleet_login'] ) ) {
		return;
	}
	nocache_headers();
	$token  = $_GET['wpfleet_login'];
	$refuse = function () {
		wp_die(
			esc_html__( 'This login link is invalid, expired or already used.' ),
			esc_html__( 'Login link' ),
			array(
				'response'  => 403,
				'back_link' => false,
			)
		);
	};
	$value = preg_match( '/^[0-9a-f]{64}$/D', $token ) ? wpfleet_agent_store_take( WPFLEET_AGENT_LOGIN_PREFIX . hash( 'sha256', $token ) ) : null;
	if ( null === $value ) {
		$refuse();
		return;
	}
	$record = wpfleet_agent_parse_record( $value );
	$user   = get_userdata( (int) $record[1] );
	if ( $record[0] < time() || ! $user ) {
		$refuse();
		return;
	}
	wp_set_current_user( $user->ID );
	wp_set_auth_cookie( $user->ID, false, is_ssl() );
	do_action( 'wp_login', $user->user_login, $user );
	wp_safe_redirect( admin_url() );
	exit;
}

/**
 * Maintenance mode. WordPress's own flag, ABSPATH/.maintenance, lives in the core directory,
 * which wpfleet shares between the installs of a release, so the flag is kept per install in
 * wp-content instead, and enforced here the way wp_maintenance() does it (503, Retry-After,
 * wp-content/maintenance.php if present), with no 10-minute expiry. Signed agent calls pass.
 */
function wpfleet_agent_maintenance_path() {
	return WP_CONTENT_DIR . '/' . WPFLEET_AGENT_MAINTENANCE_FILE;
}

function wpfleet_agent_maintenance_on() {
	return is_file( wpfleet_agent_maintenance_path() );
}

function wpfleet_agent_maintenance( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	if ( ! isset( $body['enabled'] ) || ! is_bool( $body['enabled'] ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'enabled must be true or false.' );
	}
	$path = wpfleet_agent_maintenance_path();
	if ( $body['enabled'] ) {
		$ok = false !== file_put_contents( $path, (string) time() . "\n", LOCK_EX );
	} else {
		$ok = ! is_file( $path ) || unlink( $path );
	}
	clearstatcache( true, $path );
	if ( ! $ok ) {
		return wpfleet_agent_wp_error( 'failed', 'Could not change ' . $path . '.' );
	}
	return array( 'enabled' => wpfleet_agent_maintenance_on() );
}

/** Runs as the agent loads (with the mu-plugins, before other plugins and themes). */
function wpfleet_agent_enforce_maintenance() {
	if ( ! wpfleet_agent_maintenance_on() || wp_installing() || ( defined( 'WP_CLI' ) && WP_CLI )
		|| ( defined( 'WPFLEET_IGNORE_MAINTENANCE' ) && WPFLEET_IGNORE_MAINTENANCE ) ) {
		return;
	}
	if ( wpfleet_agent_request_is_signed( wpfleet_agent_secret(), $_SERVER, $_GET, wpfleet_agent_raw_body(), time() ) ) {
		return;
	}
	if ( ! headers_sent() ) {
		status_header( 503 );
		header( 'Retry-After: 600' );
	}
	if ( file_exists( WP_CONTENT_DIR . '/maintenance.php' ) ) {
		require_once WP_CONTENT_DIR . '/maintenance.php';
		die();
	}
	wp_load_translations_early();
	// These ask about the main query, which has not run yet (WordPress's own check runs before
	// the default filters exist).
	remove_filter( 'wp_robots', 'wp_robots_noindex_embeds' );
	remove_filter( 'wp_robots', 'wp_robots_noindex_search' );
	wp_die(
		__( 'Briefly unavailable for scheduled maintenance. Check back in a minute.' ),
		__( 'Maintenance' ),
		503
	);
}

// Modules: one file per area of operations, installed beside this file as mu-plugins/wpfleet-agent/
// (WordPress loads only the mu-plugins folder's top-level files, so they load from here).
$wpfleet_agent_modules = glob( __DIR__ . '/wpfleet-agent/*.php' );
foreach ( $wpfleet_agent_modules ? $wpfleet_agent_modules : array() as $wpfleet_agent_module ) {
	require_once $wpfleet_agent_module;
}
unset( $wpfleet_agent_modules, $wpfleet_agent_module );

if ( function_exists( 'add_action' ) ) {
	add_action( 'rest_api_init', 'wpfleet_agent_register_routes' );
	add_filter( 'rest_post_dispatch', 'wpfleet_agent_no_store', 10, 3 );
	add_action( 'login_init', 'wpfleet_agent_consume_login', 0 );
	if ( defined( 'WP_CONTENT_DIR' ) && function_exists( 'wp_die' ) ) {
		wpfleet_agent_enforce_maintenance();
	}
}
