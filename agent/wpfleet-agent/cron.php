<?php
/**
 * Cron: runs the site's due events for the control plane's scheduler, since wpfleet turns
 * WP-Cron off (DISABLE_WP_CRON) and no visit ever spawns wp-cron.php.
 *
 * What wp-cron.php does when called from an external script (the path `wp cron event run
 * --due-now` and system crontabs take), step for step: take WordPress's cron lock (the
 * `doing_cron` transient) unless another run holds it within WP_CRON_LOCK_TIMEOUT; for each due
 * event, earliest first, reschedule a recurring one, unschedule it, then
 * do_action_ref_array( $hook, $args ); stop when the lock is no longer ours; release it at the end.
 * Three differences, because the answer is JSON to a caller that waits for it:
 * - what a hook throws is caught and reported, and the next events still run (in wp-cron.php it
 *   ends the run; the event was already unscheduled either way, so nothing runs twice);
 * - what hooks print is discarded (it would corrupt the answer);
 * - no event is started after `max_seconds`: the rest stays scheduled for the next run.
 * Nothing runs in maintenance mode, as WordPress runs no cron while its own .maintenance is up.
 */

/** A sentence for what a hook threw. */
function wpfleet_agent_cron_throwable_message( $e ) {
	return get_class( $e ) . ': ' . $e->getMessage();
}

/** The lock's value as stored, bypassing the options cache (wp-cron.php's _get_cron_lock()). */
function wpfleet_agent_cron_lock() {
	global $wpdb;
	$value = 0;
	if ( wp_using_ext_object_cache() ) {
		$value = wp_cache_get( 'doing_cron', 'transient', true );
	} else {
		$row = $wpdb->get_row( $wpdb->prepare( "SELECT option_value FROM $wpdb->options WHERE option_name = %s LIMIT 1", '_transient_doing_cron' ) );
		if ( is_object( $row ) ) {
			$value = $row->option_value;
		}
	}
	return $value;
}

/** The earliest event still scheduled, or null. */
function wpfleet_agent_cron_next_event() {
	$crons = _get_cron_array();
	if ( ! is_array( $crons ) || array() === $crons ) {
		return null;
	}
	$next = null;
	foreach ( array_keys( $crons ) as $timestamp ) {
		if ( is_int( $timestamp ) && ( null === $next || $timestamp < $next ) ) {
			$next = $timestamp;
		}
	}
	return $next;
}

function wpfleet_agent_cron_answer( $ran, $extra ) {
	return array_merge(
		array(
			'maintenance' => false,
			'locked'      => false,
			'ran'         => $ran,
			'incomplete'  => false,
			'next_event'  => wpfleet_agent_cron_next_event(),
		),
		$extra
	);
}

/**
 * POST /cron/run {max_seconds?: 1..600, default 50}: runs the due events; answers
 * {maintenance, locked, ran: [{hook, timestamp, schedule, error}], incomplete, next_event}.
 */
function wpfleet_agent_cron_run( $request ) {
	$body = wpfleet_agent_body( $request );
	if ( is_wp_error( $body ) ) {
		return $body;
	}
	$budget = array_key_exists( 'max_seconds', $body ) ? $body['max_seconds'] : 50;
	if ( ! is_int( $budget ) || $budget < 1 || $budget > 600 ) {
		return wpfleet_agent_wp_error( 'invalid', 'max_seconds must be an integer from 1 to 600.' );
	}
	if ( wpfleet_agent_maintenance_on() ) {
		return wpfleet_agent_cron_answer( array(), array( 'maintenance' => true ) );
	}
	// What wp-cron.php sets up before WordPress loads; hooks ask wp_doing_cron() (update checks
	// take longer timeouts under cron, for one).
	if ( ! defined( 'DOING_CRON' ) ) {
		define( 'DOING_CRON', true );
	}
	ignore_user_abort( true );
	wp_raise_memory_limit( 'cron' );

	$started = microtime( true );
	$crons   = wp_get_ready_cron_jobs();
	if ( empty( $crons ) ) {
		return wpfleet_agent_cron_answer( array(), array() );
	}
	$gmt_time = microtime( true );
	$held     = get_transient( 'doing_cron' );
	if ( $held && ( $held + WP_CRON_LOCK_TIMEOUT > $gmt_time ) ) {
		return wpfleet_agent_cron_answer( array(), array( 'locked' => true ) );
	}
	$key = sprintf( '%.22F', microtime( true ) );
	set_transient( 'doing_cron', $key );

	$ran        = array();
	$incomplete = false;
	$buffers    = ob_get_level();
	ob_start();
	foreach ( $crons as $timestamp => $cronhooks ) {
		if ( $timestamp > $gmt_time ) {
			break;
		}
		foreach ( $cronhooks as $hook => $keys ) {
			foreach ( $keys as $k => $v ) {
				if ( microtime( true ) - $started >= $budget ) {
					$incomplete = true;
					break 3;
				}
				$errors   = array();
				$schedule = $v['schedule'];
				if ( $schedule ) {
					$result = wp_reschedule_event( $timestamp, $schedule, $hook, $v['args'], true );
					if ( is_wp_error( $result ) ) {
						error_log( sprintf( __( 'Cron reschedule event error for hook: %1$s, Error code: %2$s, Error message: %3$s, Data: %4$s' ), $hook, $result->get_error_code(), $result->get_error_message(), wp_json_encode( $v ) ) );
						do_action( 'cron_reschedule_event_error', $result, $hook, $v );
						$errors[] = 'reschedule: ' . $result->get_error_message();
					}
				}
				$result = wp_unschedule_event( $timestamp, $hook, $v['args'], true );
				if ( is_wp_error( $result ) ) {
					error_log( sprintf( __( 'Cron unschedule event error for hook: %1$s, Error code: %2$s, Error message: %3$s, Data: %4$s' ), $hook, $result->get_error_code(), $result->get_error_message(), wp_json_encode( $v ) ) );
					do_action( 'cron_unschedule_event_error', $result, $hook, $v );
					$errors[] = 'unschedule: ' . $result->get_error_message();
				}
				try {
					do_action_ref_array( $hook, $v['args'] );
				} catch ( Throwable $e ) {
					$errors[] = wpfleet_agent_cron_throwable_message( $e );
				}
				$ran[] = array(
					'hook'      => (string) $hook,
					'timestamp' => (int) $timestamp,
					'schedule'  => $schedule ? (string) $schedule : null,
					'error'     => array() === $errors ? null : implode( '; ', $errors ),
				);
				// If a hook ran too long and another run took the lock over, leave the rest to it.
				if ( wpfleet_agent_cron_lock() !== $key ) {
					$incomplete = true;
					break 3;
				}
			}
		}
	}
	// Also any buffer a hook opened and left open.
	while ( ob_get_level() > $buffers ) {
		ob_end_clean();
	}
	if ( wpfleet_agent_cron_lock() === $key ) {
		delete_transient( 'doing_cron' );
	}
	return wpfleet_agent_cron_answer( $ran, array( 'incomplete' => $incomplete ) );
}

if ( function_exists( 'wpfleet_agent_routes' ) ) {
	wpfleet_agent_routes(
		array(
			'/cron/run' => array( 'POST', 'wpfleet_agent_cron_run' ),
		)
	);
}
