"""Drives the agent's Redfish service with sushy while fault rules act on it, and prints what sushy
observed as one JSON object. Usage: faults-sushy-driver.py URL CA_FILE USER PASSWORD MODE [ARG...]
get-system: reads the system (sushy retries a GET answered 5xx, logging each retry);
reset-on: asks ResetType On and reports the HTTP error sushy raises, if any, and the power state
read right after;
insert-media IMAGE_URL TIMEOUT_S: inserts IMAGE_URL in the Manager's Cd with every HTTP request
bounded to TIMEOUT_S seconds (as a caller bounds a BMC call) and reports the error sushy raises, if any;
media-inserted: reads the Manager's Cd (Inserted, Image);
session-read-twice: with session auth (X-Auth-Token), reads the system, then reads it again
(refresh); reports how often sushy authenticated again after a 401 and whether its token changed."""
import json
import logging
import sys

import sushy
from sushy import auth as sushy_auth
from sushy import exceptions

url, ca, user, password, mode = sys.argv[1:6]
extra = sys.argv[6:]
records = []


class Collect(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())


logging.getLogger('sushy').addHandler(Collect())
logging.getLogger('sushy').setLevel(logging.WARNING)
out = {}
if mode.startswith('session-'):
    auth = sushy_auth.SessionAuth(username=user, password=password)
    out['reauthentications'] = 0

    def counted(original):
        def call(*args, **kwargs):
            out['reauthentications'] += 1
            return original(*args, **kwargs)
        return call

    root = sushy.Sushy(url, auth=auth, verify=ca)
    # Counted from here on: the log-in above is the first authentication.
    auth.refresh_session = counted(auth.refresh_session)
    auth.authenticate = counted(auth.authenticate)
else:
    root = sushy.Sushy(url, auth=sushy_auth.BasicAuth(username=user, password=password), verify=ca)


def manager_cd():
    return root.get_manager('/redfish/v1/Managers/1').virtual_media.get_member('/redfish/v1/Managers/1/VirtualMedia/Cd')


try:
    system = root.get_system('/redfish/v1/Systems/1')
    out['power_state'] = str(system.power_state.value) if system.power_state else None
    if mode == 'session-read-twice':
        before = auth.get_session_key()
        system.refresh()
        out['power_state_again'] = str(system.power_state.value) if system.power_state else None
        out['token_changed'] = auth.get_session_key() != before
    if mode == 'reset-on':
        system.reset_system(sushy.RESET_ON)
        out['reset'] = 'accepted'
        system.refresh()
        out['power_state_after'] = str(system.power_state.value) if system.power_state else None
    if mode == 'insert-media':
        image, timeout = extra[0], float(extra[1])
        cd = manager_cd()
        # requests has no default timeout; a caller bounds each call by the session's requests.
        session = root._conn._session
        plain = session.request
        session.request = lambda *a, **kw: plain(*a, **{**kw, 'timeout': timeout})
        cd.insert_media(image)
        out['inserted'] = 'answered'
    if mode == 'media-inserted':
        cd = manager_cd()
        out['inserted'] = cd.inserted
        out['image'] = cd.image
except exceptions.HTTPError as e:
    out['error_status'] = e.status_code
    out['error_code'] = e.code
except exceptions.ConnectionError as e:
    out['connection_error'] = str(e)
out['retries'] = [r for r in records if 'retrying' in r]
print(json.dumps(out))
