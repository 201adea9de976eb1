"""Drives the agent's Redfish service with sushy (OpenStack Ironic's Redfish library) the way
Ironic's redfish power and management interfaces do, and prints what it observed as one JSON
object. Usage: redfish-sushy-driver.py URL CA_FILE USER PASSWORD basic|session [SYSTEM_PATH]
SYSTEM_PATH (the system to drive, as Metal3 names it in redfish://host:port/SYSTEM_PATH) defaults to
the first member of the Systems collection.
Run as Debian ships it: /usr/bin/python3 without REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (they would
override sushy's verify setting)."""
import json
import sys
import time

import requests
import sushy
from sushy import auth as sushy_auth

url, ca, user, password, mode = sys.argv[1:6]
system_path = sys.argv[6] if len(sys.argv) > 6 else None
out = {}


def wait_power(system, state, attempts=100):
    for _ in range(attempts):
        system.refresh()
        if system.power_state == state:
            return True
        time.sleep(0.1)
    return False


def boot(system):
    system.refresh()
    return [str(system.boot.target.value) if system.boot.target else None,
            str(system.boot.enabled.value) if system.boot.enabled else None,
            str(system.boot.mode.value) if system.boot.mode else None]


if mode == 'basic':
    a = sushy_auth.BasicAuth(username=user, password=password)
else:
    a = sushy_auth.SessionAuth(username=user, password=password)
root = sushy.Sushy(url, auth=a, verify=ca)
out['redfish_version'] = root.redfish_version
members = list(root.get_system_collection().members_identities)
out['members'] = members
system = root.get_system(system_path or members[0])
out['system'] = system.path
out['name'] = system.name
out['uuid'] = system.uuid
out['memory_gib'] = system.memory_summary.size_gib if system.memory_summary else None
out['managers'] = [m.identity for m in system.managers]
out['manager_firmware'] = system.managers[0].firmware_version
out['reset_types'] = sorted(str(t.value) for t in system.get_allowed_reset_system_values())

system.reset_system(sushy.RESET_FORCE_OFF)
out['off'] = wait_power(system, sushy.PowerState.OFF)
system.reset_system(sushy.RESET_ON)
out['on'] = wait_power(system, sushy.PowerState.ON)
system.reset_system(sushy.RESET_TYPE_POWER_CYCLE)
out['cycled_on'] = wait_power(system, sushy.PowerState.ON)
system.reset_system(sushy.RESET_NMI)
out['nmi'] = 'accepted'

system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_PXE, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
out['pxe_once'] = boot(system)
system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_CD, enabled=sushy.BOOT_SOURCE_ENABLED_CONTINUOUS)
out['cd_continuous'] = boot(system)
system.set_system_boot_options(mode=sushy.BOOT_SOURCE_MODE_UEFI)
out['uefi'] = boot(system)
system.set_system_boot_options(mode=sushy.BOOT_SOURCE_MODE_BIOS)
out['legacy'] = boot(system)
system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_HDD, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
out['hdd_once'] = boot(system)

if mode == 'session':
    first = a._session_key
    # The session ends on the server (as after its timeout): sushy gets 401, logs in again, retries.
    r = requests.delete(url + a._session_resource_id, auth=(user, password), verify=ca)
    out['deleted_status'] = r.status_code
    system.refresh()
    out['relogin'] = a._session_key is not None and a._session_key != first
    out['power_after_relogin'] = str(system.power_state.value)
    a.close()

print(json.dumps(out))
