<?php
/**
 * GET /inventory: everything the control plane keeps about an install, read inside WordPress in
 * one call (core, PHP, database, plugins, themes, translations needing an update, users, and the
 * updates WordPress already knows of from its update transients). Nothing here asks
 * wordpress.org: the transients are what the install's last update check stored, if any.
 */

/** Plugin "file" to its slug the way WordPress.org and WP-CLI name it: the folder, else the file. */
function wpfleet_agent_inventory_plugin_slug( $file ) {
	$file = (string) $file;
	$dir  = dirname( $file );
	return '.' === $dir ? preg_replace( '/\.php$/', '', basename( $file ) ) : $dir;
}

/** MySQL/MariaDB server info ("5.5.5-10.11.6-MariaDB-0+deb12u1") to an engine and a version. */
function wpfleet_agent_inventory_mysql_server( $info ) {
	$info = (string) $info;
	// MariaDB prefixes 5.5.5- for clients that read the first number as the MySQL version.
	$stripped = preg_replace( '/^5\.5\.5-/', '', $info );
	$engine   = false !== stripos( $stripped, 'mariadb' ) ? 'mariadb' : 'mysql';
	$version  = preg_match( '/^[0-9]+(\.[0-9]+)*/', $stripped, $m ) ? $m[0] : $stripped;
	return array(
		'engine'             => $engine,
		'server_version'     => $version,
		'server_info'        => $info,
		'sqlite_integration' => null,
	);
}

/** An update transient's response entry (object or array) as {version, package?...}, or null. */
function wpfleet_agent_inventory_update_entry( $entry ) {
	if ( is_object( $entry ) ) {
		$entry = get_object_vars( $entry );
	}
	if ( ! is_array( $entry ) || ! isset( $entry['new_version'] ) || '' === (string) $entry['new_version'] ) {
		return null;
	}
	$read = function ( $key ) use ( $entry ) {
		return isset( $entry[ $key ] ) && is_scalar( $entry[ $key ] ) && '' !== (string) $entry[ $key ] ? (string) $entry[ $key ] : null;
	};
	return array(
		'version'      => (string) $entry['new_version'],
		'requires'     => $read( 'requires' ),
		'requires_php' => $read( 'requires_php' ),
		'tested'       => $read( 'tested' ),
		'package'      => $read( 'package' ),
	);
}

function wpfleet_agent_inventory_core() {
	global $wp_version, $wp_db_version;
	$stored = (int) get_option( 'db_version' );
	return array(
		'version'           => (string) $wp_version,
		'db_version'        => (int) $wp_db_version,
		'db_version_stored' => $stored,
		'db_upgrade_needed' => $stored !== (int) $wp_db_version,
		'locale'            => (string) get_locale(),
		'multisite'         => is_multisite(),
		'home'              => (string) get_option( 'home' ),
		'siteurl'           => (string) get_option( 'siteurl' ),
	);
}

function wpfleet_agent_inventory_php() {
	$extensions = array_map( 'strtolower', get_loaded_extensions() );
	sort( $extensions );
	return array(
		'version'      => PHP_VERSION,
		'extensions'   => array_values( array_unique( $extensions ) ),
		'memory_limit' => (string) ini_get( 'memory_limit' ),
	);
}

/**
 * The database WordPress talks to. On SQLite (the integration plugin's WP_SQLite_DB) the
 * server version is SQLite's own and `sqlite_integration` names the plugin's version; its
 * db_version() answers a made-up MySQL "8.0", so it is not used.
 */
function wpfleet_agent_inventory_database() {
	global $wpdb;
	if ( ( defined( 'DB_ENGINE' ) && 'sqlite' === DB_ENGINE ) || ( class_exists( 'WP_SQLite_DB' ) && $wpdb instanceof WP_SQLite_DB ) ) {
		$version = null;
		if ( isset( $wpdb->dbh ) && is_object( $wpdb->dbh ) && method_exists( $wpdb->dbh, 'get_pdo' ) ) {
			$version = (string) $wpdb->dbh->get_pdo()->getAttribute( PDO::ATTR_SERVER_VERSION );
		} elseif ( class_exists( 'SQLite3' ) ) {
			$info    = SQLite3::version();
			$version = (string) $info['versionString'];
		}
		return array(
			'engine'             => 'sqlite',
			'server_version'     => $version,
			'server_info'        => null === $version ? null : 'SQLite ' . $version,
			'sqlite_integration' => wpfleet_agent_inventory_sqlite_plugin(),
		);
	}
	return wpfleet_agent_inventory_mysql_server( $wpdb->db_server_info() );
}

/** The SQLite integration plugin's version (its header) and its drop-in's, found from the class. */
function wpfleet_agent_inventory_sqlite_plugin() {
	$main = defined( 'SQLITE_MAIN_FILE' ) ? SQLITE_MAIN_FILE : null;
	if ( null === $main && class_exists( 'WP_SQLite_DB' ) ) {
		// wp-includes/sqlite/class-wp-sqlite-db.php, three levels below the plugin's load.php.
		$class = new ReflectionClass( 'WP_SQLite_DB' );
		$main  = dirname( dirname( dirname( (string) $class->getFileName() ) ) ) . '/load.php';
	}
	$version = null;
	if ( null !== $main && is_file( $main ) ) {
		$headers = get_file_data( $main, array( 'Version' => 'Version' ) );
		$version = '' === $headers['Version'] ? null : (string) $headers['Version'];
	}
	return array(
		'version'        => $version,
		'dropin_version' => defined( 'SQLITE_DB_DROPIN_VERSION' ) ? (string) SQLITE_DB_DROPIN_VERSION : null,
	);
}

function wpfleet_agent_inventory_plugins() {
	require_once ABSPATH . 'wp-admin/includes/plugin.php';
	$auto    = (array) get_site_option( 'auto_update_plugins', array() );
	$updates = get_site_transient( 'update_plugins' );
	$pending = is_object( $updates ) && isset( $updates->response ) && is_array( $updates->response ) ? $updates->response : array();
	$plugins = array();
	foreach ( get_plugins() as $file => $data ) {
		$plugins[] = array(
			'file'           => (string) $file,
			'slug'           => wpfleet_agent_inventory_plugin_slug( $file ),
			'name'           => (string) $data['Name'],
			'version'        => (string) $data['Version'],
			'active'         => is_plugin_active( $file ),
			'network_active' => is_multisite() && is_plugin_active_for_network( $file ),
			'auto_update'    => in_array( $file, $auto, true ),
			'update'         => isset( $pending[ $file ] ) ? wpfleet_agent_inventory_update_entry( $pending[ $file ] ) : null,
		);
	}
	return $plugins;
}

function wpfleet_agent_inventory_themes() {
	$auto       = (array) get_site_option( 'auto_update_themes', array() );
	$updates    = get_site_transient( 'update_themes' );
	$pending    = is_object( $updates ) && isset( $updates->response ) && is_array( $updates->response ) ? $updates->response : array();
	$stylesheet = get_stylesheet();
	$themes     = array();
	foreach ( wp_get_themes() as $slug => $theme ) {
		$slug     = (string) $slug;
		$themes[] = array(
			'stylesheet'  => $slug,
			'name'        => (string) $theme->get( 'Name' ),
			'version'     => (string) $theme->get( 'Version' ),
			'active'      => $slug === $stylesheet,
			'parent'      => $theme->parent() ? (string) $theme->get_template() : null,
			'auto_update' => in_array( $slug, $auto, true ),
			'update'      => isset( $pending[ $slug ] ) ? wpfleet_agent_inventory_update_entry( $pending[ $slug ] ) : null,
		);
	}
	return $themes;
}

/** wp_get_translation_updates(): language packs WordPress's last check found newer than the installed ones. */
function wpfleet_agent_inventory_translations() {
	$out = array();
	foreach ( wp_get_translation_updates() as $update ) {
		$out[] = array(
			'type'     => isset( $update->type ) ? (string) $update->type : '',
			'slug'     => isset( $update->slug ) ? (string) $update->slug : '',
			'language' => isset( $update->language ) ? (string) $update->language : '',
			'version'  => isset( $update->version ) ? (string) $update->version : '',
			'updated'  => isset( $update->updated ) ? (string) $update->updated : '',
		);
	}
	return $out;
}

/** Core releases WordPress's last version check offered, and when each kind was last checked. */
function wpfleet_agent_inventory_updates() {
	$checked = function ( $transient ) {
		return is_object( $transient ) && isset( $transient->last_checked ) ? (int) $transient->last_checked : null;
	};
	$core_transient = get_site_transient( 'update_core' );
	$core           = array();
	if ( is_object( $core_transient ) && isset( $core_transient->updates ) && is_array( $core_transient->updates ) ) {
		foreach ( $core_transient->updates as $offer ) {
			if ( ! is_object( $offer ) || ! isset( $offer->version ) ) {
				continue;
			}
			$core[] = array(
				'response'     => isset( $offer->response ) ? (string) $offer->response : '',
				'version'      => (string) $offer->version,
				'locale'       => isset( $offer->locale ) ? (string) $offer->locale : '',
				'php_version'  => isset( $offer->php_version ) ? (string) $offer->php_version : null,
				'package'      => isset( $offer->download ) && is_string( $offer->download ) ? $offer->download : null,
			);
		}
	}
	return array(
		'core'       => $core,
		'checked_at' => array(
			'core'    => $checked( $core_transient ),
			'plugins' => $checked( get_site_transient( 'update_plugins' ) ),
			'themes'  => $checked( get_site_transient( 'update_themes' ) ),
		),
	);
}

function wpfleet_agent_inventory( $request ) {
	$users = wpfleet_agent_users_page();
	return array(
		'agent_version' => WPFLEET_AGENT_VERSION,
		'core'          => wpfleet_agent_inventory_core(),
		'php'           => wpfleet_agent_inventory_php(),
		'database'      => wpfleet_agent_inventory_database(),
		'plugins'       => wpfleet_agent_inventory_plugins(),
		'themes'        => wpfleet_agent_inventory_themes(),
		'translations'  => wpfleet_agent_inventory_translations(),
		'users'         => $users['users'],
		'users_total'   => $users['total'],
		'updates'       => wpfleet_agent_inventory_updates(),
	);
}

if ( function_exists( 'wpfleet_agent_routes' ) ) {
	wpfleet_agent_routes( array( '/inventory' => array( 'GET', 'wpfleet_agent_inventory' ) ) );
}
