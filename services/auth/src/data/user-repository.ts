import type { Knex } from 'knex';
import type { EventEnvelope } from '@mpb/contracts';
import { conflict } from '@mpb/errors';
import { writeOutbox } from '@mpb/kafka';
import { Messages } from '../domain/auth-service';
import type { NewUser, UserStore } from '../domain/ports';
import type { User } from '../domain/user';
import { isUniqueViolation } from './pg-errors';

interface UserRow {
  id: string | number;
  name: string;
  username: string;
  email: string;
  age: number | null;
  is_active: boolean;
  created_at: Date;
}

const COLUMNS = ['id', 'name', 'username', 'email', 'age', 'is_active', 'created_at'] as const;

const toUser = (r: UserRow): User => ({
  id: Number(r.id),
  name: r.name,
  username: r.username,
  email: r.email,
  age: r.age,
  isActive: r.is_active,
  createdAt: r.created_at,
});

export class UserRepository implements UserStore {
  constructor(private readonly knex: Knex) {}

  async existsByUsernameOrEmail(username: string, email: string): Promise<boolean> {
    // Deleted users keep their names: the unique indexes cover every row.
    const row = await this.knex('users')
      .first('id')
      .whereRaw('lower(username) = lower(?)', [username])
      .orWhereRaw('lower(email) = lower(?)', [email]);
    return row !== undefined;
  }

  async createWithEvent(user: NewUser, event: (created: User) => EventEnvelope): Promise<User> {
    try {
      return await this.knex.transaction(async (trx) => {
        const [row] = (await trx('users')
          .insert({
            name: user.name,
            username: user.username,
            email: user.email,
            password_hash: user.passwordHash,
            age: user.age,
          })
          .returning([...COLUMNS])) as UserRow[];
        if (!row) throw new Error('insert returned no row');
        const created = toUser(row);
        await writeOutbox(trx, event(created));
        return created;
      });
    } catch (err) {
      // A concurrent registration passed the pre-check too: the unique index decides.
      if (isUniqueViolation(err)) throw conflict(Messages.userExists);
      throw err;
    }
  }

  async findForLogin(username: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const row = (await this.knex('users')
      .first([...COLUMNS, 'password_hash'])
      .whereRaw('lower(username) = lower(?)', [username])
      .whereNull('deleted_at')) as (UserRow & { password_hash: string }) | undefined;
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
  }

  async findActiveById(id: number): Promise<User | undefined> {
    const row = (await this.active()
      .first([...COLUMNS])
      .where({ id })) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  async findActiveByIds(ids: number[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const rows = (await this.active()
      .select([...COLUMNS])
      .whereIn('id', ids)) as UserRow[];
    return rows.map(toUser);
  }

  private active() {
    return this.knex('users').where({ is_active: true }).whereNull('deleted_at');
  }
}
