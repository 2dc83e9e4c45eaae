import type { Actor } from '../actor.js';
import { NotFoundError } from '../errors.js';
import type { Store } from '../store.js';
import type { UserRow } from './users.repository.js';

export class CurrentUserService {
  constructor(private readonly store: Store) {}

  /** The user the credential acts as. */
  async get(actor: Actor): Promise<UserRow> {
    const user = await this.store.read.users.findUserById(actor.userId);
    if (user === undefined) throw new NotFoundError('User');
    return user;
  }
}
