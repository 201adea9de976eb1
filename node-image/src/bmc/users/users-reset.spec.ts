import { Privilege } from '../../protocol/errors';
import { MemoryStateStore, readJson } from '../../state/state-store';
import { ADMIN_USER_ID, USERS_DOCUMENT, UserStore } from './user-store';
import { applyUsersReset, USERS_RESET_DOCUMENT } from './users-reset';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const config = { adminName: 'admin', adminPassword: 'password' };

/** One agent start: the reset (if any), then the user store as BmcAgent makes it. */
function start(state: MemoryStateStore, resetId: string | undefined, c = config): { outcome: string; users: UserStore } {
  const outcome = applyUsersReset(state, resetId);
  return { outcome, users: new UserStore({ state, ...c }) };
}

/** What a previous owner did over IPMI: a second administrator, a new admin password, a lockout policy. */
function previousOwnerChanges(users: UserStore): void {
  users.setName(3, b('intruder'));
  users.setPassword(3, b('backdoor'), 16);
  users.setAccess(3, Privilege.Administrator, { ipmiMessaging: true, linkAuth: true, callbackOnly: false });
  users.setEnabled(3, true);
  users.setPassword(ADMIN_USER_ID, b('changed-over-ipmi'), 20);
}

const loginNames = (users: UserStore): string[] => users.list().filter((u) => u.enabled).map((u) => u.name);

describe('applyUsersReset (BMC_USERS_RESET_ID)', () => {
  it('a new id: only the configured administrator remains, with the configured password', () => {
    const state = new MemoryStateStore();
    previousOwnerChanges(start(state, 'owner-1').users);

    const { outcome, users } = start(state, 'owner-2', { adminName: 'root', adminPassword: 'new-owner-pw' });
    expect(outcome).toBe('reset');
    expect(loginNames(users)).toEqual(['root']);
    expect(users.findByName(b('intruder'))).toBeUndefined();
    expect(users.findByName(b('admin'))).toBeUndefined();
    expect(users.get(ADMIN_USER_ID)!.password.toString()).toBe('new-owner-pw');
    expect(readJson(state, USERS_RESET_DOCUMENT)).toEqual({ version: 1, resetId: 'owner-2' });
  });

  it('a new id resets even when the configured credentials are the same as before', () => {
    const state = new MemoryStateStore();
    previousOwnerChanges(start(state, 'owner-1').users);
    const { outcome, users } = start(state, 'owner-2');
    expect(outcome).toBe('reset');
    expect(loginNames(users)).toEqual(['admin']);
    expect(users.get(ADMIN_USER_ID)!.password.toString()).toBe('password');
  });

  it('the same id again, or no id: the users made over IPMI stay', () => {
    const state = new MemoryStateStore();
    previousOwnerChanges(start(state, 'owner-1').users);

    const same = start(state, 'owner-1');
    expect(same.outcome).toBe('kept');
    expect(loginNames(same.users)).toEqual(['admin', 'intruder']);
    expect(same.users.get(ADMIN_USER_ID)!.password.toString()).toBe('changed-over-ipmi');

    const unset = start(state, undefined);
    expect(unset.outcome).toBe('kept');
    expect(loginNames(unset.users)).toEqual(['admin', 'intruder']);
    expect(readJson(state, USERS_RESET_DOCUMENT)).toEqual({ version: 1, resetId: 'owner-1' });
  });

  it('the first start with an id on a node that had users but no id yet resets them', () => {
    const state = new MemoryStateStore();
    previousOwnerChanges(start(state, undefined).users);
    expect(start(state, 'owner-1').outcome).toBe('reset');
    expect(state.read(USERS_DOCUMENT)).toBeDefined(); // written again by the new UserStore
  });

  it('an unreadable id document counts as another owner\'s', () => {
    const state = new MemoryStateStore();
    previousOwnerChanges(start(state, 'owner-1').users);
    state.write(USERS_RESET_DOCUMENT, b('{not json'));
    const { outcome, users } = start(state, 'owner-1');
    expect(outcome).toBe('reset');
    expect(loginNames(users)).toEqual(['admin']);
  });
});
