"""Drives the agent's Redfish service with sushy while fault rules act on it, and prints what sushy
observed as one JSON object. Usage: faults-sushy-driver.py URL CA_FILE USER PASSWORD MODE
get-system: reads the system (sushy retries a GET answered 5xx, logging each retry);
reset-on: asks ResetType On and reports the HTTP error sushy raises, if any;
session-read-twice: with session auth (X-Auth-Token), reads the system, then reads it again
(refresh); reports how often sushy authenticated again after a 401 and whether its token changed."""
import json
import logging
import sys

import sushy
from sushy import auth as sushy_auth
from sushy import exceptions

url, ca, user, password, mode = sys.argv[1:6]
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
except exceptions.HTTPError as e:
    out['error_status'] = e.status_code
    out['error_code'] = e.code
out['retries'] = [r for r in records if 'retrying' in r]
print(json.dumps(out))
