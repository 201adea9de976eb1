"""The sequence Ironic's redfish power interface runs, timed inside one python process (no
interpreter start in the figures): log in (service root + session), GET the System, Reset
(alternating ForceOn and ForceOff so each Reset changes the power state); then log out.
Usage: sushy-sequence.py URL CA_FILE USER PASSWORD ITERATIONS; prints a JSON list of
{"login", "get", "reset"} in seconds. Run as Debian ships it: /usr/bin/python3 without
REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE."""
import json
import sys
import time

import sushy
from sushy import auth as sushy_auth

url, ca, user, password, iterations = sys.argv[1:6]
rows = []
for i in range(int(iterations)):
    t0 = time.monotonic()
    a = sushy_auth.SessionAuth(username=user, password=password)
    root = sushy.Sushy(url, auth=a, verify=ca)
    root.get_system_collection()  # sushy logs in lazily, on the first authenticated request
    t1 = time.monotonic()
    system = root.get_system('/redfish/v1/Systems/1')
    t2 = time.monotonic()
    system.reset_system(sushy.RESET_ON if i % 2 == 0 else sushy.RESET_FORCE_OFF)
    t3 = time.monotonic()
    rows.append({'login': t1 - t0, 'get': t2 - t1, 'reset': t3 - t2})
    a.close()
print(json.dumps(rows))
