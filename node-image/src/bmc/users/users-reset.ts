/**
 * BMC_USERS_RESET_ID: whoever creates the node container says, with an opaque id, which "owner" of
 * the node's disk this start belongs to. When the id differs from the one stored in the BMC's state
 * (a node re-created on a kept disk for a new owner), the user table starts over from IPMI_USER /
 * IPMI_PASS alone: every user made over IPMI is gone, lockouts and their policy are back to the
 * defaults. The same id again, or no id at all, keeps the users as they are (what a BMC does across
 * its own restarts).
 *
 * The user table is dropped before the new id is stored, so a crash in between resets again at the
 * next start instead of keeping the previous owner's users.
 */
import { type StateStore, readJson, writeJson } from '../../state/state-store';
import { USERS_DOCUMENT } from './user-store';

export const USERS_RESET_DOCUMENT = 'users-reset.json';

interface UsersResetDocument {
  readonly version: 1;
  readonly resetId: string;
}

/** 'reset': the users start over from the configuration; 'kept': the stored users stay. */
export type UsersResetOutcome = 'reset' | 'kept';

/** Call before the UserStore is created. `resetId` undefined = BMC_USERS_RESET_ID unset. */
export function applyUsersReset(state: StateStore, resetId: string | undefined): UsersResetOutcome {
  if (resetId === undefined) return 'kept';
  let stored: string | undefined;
  try {
    stored = readJson<Partial<UsersResetDocument>>(state, USERS_RESET_DOCUMENT)?.resetId;
  } catch {
    stored = undefined; // unreadable: treated as another owner's
  }
  if (stored === resetId) return 'kept';
  state.remove(USERS_DOCUMENT);
  const doc: UsersResetDocument = { version: 1, resetId };
  writeJson(state, USERS_RESET_DOCUMENT, doc);
  return 'reset';
}
