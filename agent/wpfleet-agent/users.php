<?php
/**
 * Users of the install's site, with WordPress's own functions: wp_insert_user, WP_User::set_role,
 * wp_delete_user, wp_set_password. Answers never carry password hashes; a generated password is
 * answered once, by the call that set it.
 */

/** The most users GET /users and the inventory answer (ordered by id); `total` says how many exist. */
define( 'WPFLEET_AGENT_USERS_LIMIT', 1000 );

/** A user_registered value ("Y-m-d H:i:s", UTC) as ISO 8601, or null when unset. */
function wpfleet_agent_users_iso_time( $mysql_time ) {
	$mysql_time = (string) $mysql_time;
	if ( ! preg_match( '/^([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}:[0-9]{2})$/D', $mysql_time, $m ) || '0000-00-00' === $m[1] ) {
		return null;
	}
	return $m[1] . 'T' . $m[2] . 'Z';
}

/** What the agent tells of a user: never the hash, the activation key or any meta beyond roles. */
function wpfleet_agent_users_record( $user ) {
	return array(
		'id'           => (int) $user->ID,
		'login'        => (string) $user->user_login,
		'email'        => (string) $user->user_email,
		'display_name' => (string) $user->display_name,
		'roles'        => array_values( array_map( 'strval', (array) $user->roles ) ),
		'registered'   => wpfleet_agent_users_iso_time( $user->user_registered ),
	);
}

/** The site's first WPFLEET_AGENT_USERS_LIMIT users by id, and how many there are in all. */
function wpfleet_agent_users_page() {
	$query = new WP_User_Query(
		array(
			'blog_id'     => get_current_blog_id(),
			'orderby'     => 'ID',
			'order'       => 'ASC',
			'number'      => WPFLEET_AGENT_USERS_LIMIT,
			'count_total' => true,
		)
	);
	return array(
		'users' => array_map( 'wpfleet_agent_users_record', $query->get_results() ),
		'total' => (int) $query->get_total(),
	);
}

/** A user named by id (integer) or login, then e-mail (string); a WP_Error when there is none. */
function wpfleet_agent_users_find( $ref, $field = 'user' ) {
	$user = false;
	if ( is_int( $ref ) && $ref > 0 ) {
		$user = get_userdata( $ref );
	} elseif ( is_string( $ref ) && '' !== $ref ) {
		$user = get_user_by( 'login', $ref );
		if ( ! $user && is_email( $ref ) ) {
			$user = get_user_by( 'email', $ref );
		}
	} else {
		return wpfleet_agent_wp_error( 'invalid', $field . ' must be a user id (integer) or a login.' );
	}
	if ( ! $user ) {
		return wpfleet_agent_wp_error( 'not_found', 'No user ' . ( is_int( $ref ) ? 'with id ' . $ref : '"' . $ref . '"' ) . '.' );
	}
	return $user;
}

/** The role names the site knows, for error messages. */
function wpfleet_agent_users_role_names() {
	return array_keys( wp_roles()->roles );
}

/** null when the role exists, else the error (WP-CLI's wording, then the valid roles). */
function wpfleet_agent_users_check_role( $role ) {
	if ( ! is_string( $role ) || '' === $role ) {
		return wpfleet_agent_wp_error( 'invalid', 'role must be a non-empty string.' );
	}
	if ( null === get_role( $role ) ) {
		return wpfleet_agent_wp_error( 'invalid', "Role doesn't exist: " . $role . '. Valid roles: ' . implode( ', ', wpfleet_agent_users_role_names() ) . '.' );
	}
	return null;
}

/** Whether the user is an administrator and no other administrator exists. */
function wpfleet_agent_users_is_last_admin( $user ) {
	if ( ! in_array( 'administrator', (array) $user->roles, true ) ) {
		return false;
	}
	$others = get_users(
		array(
			'role'    => 'administrator',
			'exclude' => array( (int) $user->ID ),
			'fields'  => 'ID',
			'number'  => 1,
		)
	);
	return empty( $others );
}

/** WordPress's own error, its text kept and its code in data.wp_code (as the upgraders do). */
function wpfleet_agent_users_wordpress_error( $error, $code ) {
	$status = wpfleet_agent_error( $code );
	return new WP_Error(
		$code,
		wp_strip_all_tags( $error->get_error_message() ),
		array(
			'status'         => $status[0],
			'wp_code' => $error->get_error_code(),
		)
	);
}

/** An optional string field of a body: absent or null gives $default, a non-string an error. */
function wpfleet_agent_users_optional_string( $body, $key, $default = null ) {
	if ( ! array_key_exists( $key, $body ) || null === $body[ $key ] ) {
		return $default;
	}
	return is_string( $body[ $key ] ) ? $body[ $key ] : wpfleet_agent_wp_error( 'invalid', $key . ' must be a string.' );
}

/**
 * The password as WordPress's own forms hand it to wp_hash_password(): slashed. wp-login.php
 * checks the slashed $_POST['pwd'], so a password with a quote set unslashed would never log in
 * there (WP-CLI slashes too). A backslash is refused with the text of WordPress's profile form.
 */
function wpfleet_agent_users_password( $password ) {
	if ( false !== strpos( $password, '\\' ) ) {
		return wpfleet_agent_wp_error( 'invalid', wp_strip_all_tags( __( '<strong>Error:</strong> Passwords may not contain the character "\\".' ) ) );
	}
	return wp_slash( $password );
}

function wpfleet_agent_users_list( $request ) {
	$page = wpfleet_agent_users_page();
	return array(
		'users' => $page['users'],
		'total' => $page['total'],
		'limit' => WPFLEET_AGENT_USERS_LIMIT,
	);
}

/** POST /users/create {login, email, role?, password?, display_name?, send_email?}. */
function wpfleet_agent_users_create( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$login = isset( $body['login'] ) ? $body['login'] : null;
	$email = isset( $body['email'] ) ? $body['email'] : null;
	if ( ! is_string( $login ) || '' === $login || ! is_string( $email ) || '' === $email ) {
		return wpfleet_agent_wp_error( 'invalid', 'login and email are required strings.' );
	}
	// wp_insert_user() stores any e-mail; wp-admin's form (edit_user()) checks it first.
	if ( ! is_email( $email ) ) {
		return wpfleet_agent_wp_error( 'invalid', wp_strip_all_tags( __( '<strong>Error:</strong> The email address is not correct.' ) ) );
	}
	$fields = array();
	foreach ( array( 'role' => get_option( 'default_role' ), 'password' => null, 'display_name' => null ) as $key => $default ) {
		$fields[ $key ] = wpfleet_agent_users_optional_string( $body, $key, $default );
		if ( is_wp_error( $fields[ $key ] ) ) {
			return $fields[ $key ];
		}
	}
	if ( '' === $fields['password'] ) {
		return wpfleet_agent_wp_error( 'invalid', 'password must not be empty; leave it out to have one generated.' );
	}
	$send_email = array_key_exists( 'send_email', $body ) ? $body['send_email'] : false;
	if ( ! is_bool( $send_email ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'send_email must be true or false.' );
	}
	$role_error = wpfleet_agent_users_check_role( $fields['role'] );
	if ( null !== $role_error ) {
		return $role_error;
	}
	$generated       = null === $fields['password'];
	$password        = $generated ? wp_generate_password( 24 ) : $fields['password'];
	$stored_password = wpfleet_agent_users_password( $password );
	if ( is_wp_error( $stored_password ) ) {
		return $stored_password;
	}
	// Slashed like form data: wp_insert_user() unslashes the columns it stores (user_pass is
	// hashed as given, see wpfleet_agent_users_password()).
	$userdata = array(
		'user_login' => wp_slash( $login ),
		'user_email' => wp_slash( $email ),
		'user_pass'  => $stored_password,
		'role'       => $fields['role'],
	);
	if ( null !== $fields['display_name'] ) {
		$userdata['display_name'] = wp_slash( $fields['display_name'] );
	}
	$id = wp_insert_user( $userdata );
	if ( is_wp_error( $id ) ) {
		return wpfleet_agent_users_wordpress_error( $id, 'invalid' );
	}
	if ( $send_email ) {
		wp_new_user_notification( $id, null, 'both' );
	}
	return array(
		'user'     => wpfleet_agent_users_record( get_userdata( $id ) ),
		'password' => $generated ? $password : null,
	);
}

/** POST /users/update-role {user, role}: the user's only role becomes `role`. */
function wpfleet_agent_users_update_role( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$user = wpfleet_agent_users_find( isset( $body['user'] ) ? $body['user'] : null );
	if ( is_wp_error( $user ) ) {
		return $user;
	}
	$role       = isset( $body['role'] ) ? $body['role'] : null;
	$role_error = wpfleet_agent_users_check_role( $role );
	if ( null !== $role_error ) {
		return $role_error;
	}
	if ( 'administrator' !== $role && wpfleet_agent_users_is_last_admin( $user ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'User "' . $user->user_login . '" is the site\'s last administrator: make another user an administrator first.' );
	}
	$before = array_values( (array) $user->roles );
	$user->set_role( $role );
	return array(
		'user'           => wpfleet_agent_users_record( get_userdata( $user->ID ) ),
		'previous_roles' => $before,
	);
}

/** POST /users/delete {user, reassign?}: without reassign, WordPress deletes the user's content. */
function wpfleet_agent_users_delete( $request ) {
	require_once ABSPATH . 'wp-admin/includes/user.php';
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$user = wpfleet_agent_users_find( isset( $body['user'] ) ? $body['user'] : null );
	if ( is_wp_error( $user ) ) {
		return $user;
	}
	$reassign = null;
	if ( array_key_exists( 'reassign', $body ) && null !== $body['reassign'] ) {
		$reassign = wpfleet_agent_users_find( $body['reassign'], 'reassign' );
		if ( is_wp_error( $reassign ) ) {
			return $reassign;
		}
		if ( (int) $reassign->ID === (int) $user->ID ) {
			return wpfleet_agent_wp_error( 'invalid', 'reassign must be another user than the one deleted.' );
		}
	}
	if ( wpfleet_agent_users_is_last_admin( $user ) ) {
		return wpfleet_agent_wp_error( 'invalid', 'User "' . $user->user_login . '" is the site\'s last administrator and cannot be deleted.' );
	}
	$record = wpfleet_agent_users_record( $user );
	if ( ! wp_delete_user( $user->ID, null === $reassign ? null : (int) $reassign->ID ) ) {
		return wpfleet_agent_wp_error( 'failed', 'WordPress did not delete user ' . $user->ID . '.' );
	}
	return array(
		'deleted'     => $record,
		'reassign_to' => null === $reassign ? null : (int) $reassign->ID,
	);
}

/**
 * POST /users/reset-password {user, password?}: wp_set_password() with the given or a generated
 * password, and the user's sessions ended (a reset is how an operator shuts an account out).
 */
function wpfleet_agent_users_reset_password( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$user = wpfleet_agent_users_find( isset( $body['user'] ) ? $body['user'] : null );
	if ( is_wp_error( $user ) ) {
		return $user;
	}
	$password = wpfleet_agent_users_optional_string( $body, 'password' );
	if ( is_wp_error( $password ) ) {
		return $password;
	}
	if ( '' === $password ) {
		return wpfleet_agent_wp_error( 'invalid', 'password must not be empty; leave it out to have one generated.' );
	}
	$generated = null === $password;
	if ( $generated ) {
		$password = wp_generate_password( 24 );
	}
	$stored_password = wpfleet_agent_users_password( $password );
	if ( is_wp_error( $stored_password ) ) {
		return $stored_password;
	}
	wp_set_password( $stored_password, $user->ID );
	WP_Session_Tokens::get_instance( $user->ID )->destroy_all();
	return array(
		'user'     => wpfleet_agent_users_record( get_userdata( $user->ID ) ),
		'password' => $generated ? $password : null,
	);
}

if ( function_exists( 'wpfleet_agent_routes' ) ) {
	wpfleet_agent_routes(
		array(
			'/users'                => array( 'GET', 'wpfleet_agent_users_list' ),
			'/users/create'         => array( 'POST', 'wpfleet_agent_users_create' ),
			'/users/update-role'    => array( 'POST', 'wpfleet_agent_users_update_role' ),
			'/users/delete'         => array( 'POST', 'wpfleet_agent_users_delete' ),
			'/users/reset-password' => array( 'POST', 'wpfleet_agent_users_reset_password' ),
		)
	);
}
