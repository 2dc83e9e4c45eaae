/**
 * The agent's user operations (agent/wpfleet-agent/users.php): WordPress's own wp_insert_user,
 * WP_User::set_role, wp_delete_user and wp_set_password. A user is named by id or login (a
 * string that is no login is tried as an e-mail). Failures are AgentErrors: `not_found` for an
 * unknown user, `invalid` for a bad request or WordPress's refusal (its own text, e.g. "Sorry,
 * that username already exists!"), with nothing changed.
 */
import type { WordPressUser } from '../../core/inventory/inventory.types.js';
import type {
  CreateUserInput,
  RoleChange,
  UserDeletion,
  UserList,
  UserRef,
  UserWithPassword,
} from '../../core/site-agent/operations.types.js';
import { Reader, type AgentClient, type Json } from './client.js';

export function readUser(u: Reader): WordPressUser {
  return {
    id: u.integer('id'),
    login: u.string('login'),
    email: u.string('email'),
    displayName: u.string('display_name'),
    roles: u.strings('roles'),
    registered: u.nullableString('registered'),
  };
}

function withPassword(r: Reader): UserWithPassword {
  return { user: readUser(r.object('user')), password: r.nullableString('password') };
}

export async function listUsers(agent: AgentClient): Promise<UserList> {
  const r = new Reader(await agent.call('GET', 'users'));
  return {
    users: r.list('users').map(readUser),
    total: r.integer('total'),
    limit: r.integer('limit'),
  };
}

export async function createUser(
  agent: AgentClient,
  input: CreateUserInput,
): Promise<UserWithPassword> {
  const body: Json = { login: input.login, email: input.email };
  if (input.role !== undefined) body.role = input.role;
  if (input.password !== undefined) body.password = input.password;
  if (input.displayName !== undefined) body.display_name = input.displayName;
  if (input.sendEmail !== undefined) body.send_email = input.sendEmail;
  return withPassword(new Reader(await agent.call('POST', 'users/create', body)));
}

/** Makes `role` the user's only role; refused for the site's last administrator. */
export async function updateUserRole(
  agent: AgentClient,
  user: UserRef,
  role: string,
): Promise<RoleChange> {
  const r = new Reader(await agent.call('POST', 'users/update-role', { user, role }));
  return { user: readUser(r.object('user')), previousRoles: r.strings('previous_roles') };
}

/**
 * wp_delete_user(): the user's posts and links go to `reassign`, or are deleted with the user
 * when it is not given. Refused for the site's last administrator.
 */
export async function deleteUser(
  agent: AgentClient,
  user: UserRef,
  reassign?: UserRef,
): Promise<UserDeletion> {
  const body: Json = reassign === undefined ? { user } : { user, reassign };
  const r = new Reader(await agent.call('POST', 'users/delete', body));
  return { deleted: readUser(r.object('deleted')), reassignedTo: r.nullableInteger('reassign_to') };
}

/** wp_set_password() with `password` or a generated one (answered once); ends the user's sessions. */
export async function resetPassword(
  agent: AgentClient,
  user: UserRef,
  password?: string,
): Promise<UserWithPassword> {
  const body: Json = password === undefined ? { user } : { user, password };
  return withPassword(new Reader(await agent.call('POST', 'users/reset-password', body)));
}
