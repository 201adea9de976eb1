"""Reads the inventory and the firmware settings of the agent's Redfish service with sushy (OpenStack
Ironic's Redfish library), as Ironic's inspection, BIOS and secure-boot interfaces do, changes a BIOS
attribute and Secure Boot, and prints what it observed as one JSON object.
Usage: redfish-sushy-resources.py URL CA_FILE USER PASSWORD
Run as Debian ships it: /usr/bin/python3 without REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE."""
import json
import sys
import time

import sushy
from sushy import auth as sushy_auth

url, ca, user, password = sys.argv[1:5]
out = {}
root = sushy.Sushy(url, auth=sushy_auth.SessionAuth(username=user, password=password), verify=ca)
system = root.get_system('/redfish/v1/Systems/1')


def wait_power(state, attempts=100):
    for _ in range(attempts):
        system.refresh()
        if system.power_state == state:
            return True
        time.sleep(0.1)
    return False


summary = system.processors.summary
out['processors'] = [summary.count, str(summary.architecture.value) if summary.architecture else None]
out['cores'] = [p.total_cores for p in system.processors.get_members()]
out['nics'] = {mac: str(state.value) for mac, state in system.ethernet_interfaces.summary.items()}
out['memory_gib'] = system.memory_summary.size_gib
out['storage_max_drive'] = system.storage.max_drive_size_bytes
out['drives'] = sorted(d.name for s in system.storage.get_members() for d in s.drives)
out['simple_storage_max'] = system.simple_storage.max_size_bytes

chassis = root.get_chassis('/redfish/v1/Chassis/1')
out['temperatures'] = sorted(t.name for t in chassis.thermal.temperatures if t.reading_celsius is not None)
out['fans'] = sorted(f.name for f in chassis.thermal.fans if f.reading is not None and str(f.reading_units.value) == 'RPM')
out['power_supplies'] = len(chassis.power.power_supplies)

bios = system.bios
out['bios'] = dict(bios.attributes)
out['apply_times'] = [str(t) for t in (bios.supported_apply_times or [])]
bios.set_attribute('ProcTurboMode', 'Disabled')
bios.refresh()
out['pending'] = dict(bios.pending_attributes)
out['current_before_boot'] = bios.attributes['ProcTurboMode']

sb = system.secure_boot
out['secure_boot'] = [sb.enabled, str(sb.current_boot.value), str(sb.mode.value)]
sb.set_enabled(True)
sb.refresh()
out['secure_boot_set'] = [sb.enabled, str(sb.current_boot.value)]

system.reset_system(sushy.RESET_FORCE_OFF)
out['off'] = wait_power(sushy.PowerState.OFF)
system.reset_system(sushy.RESET_ON)
out['on'] = wait_power(sushy.PowerState.ON)
bios.refresh()
out['current_after_boot'] = bios.attributes['ProcTurboMode']
sb.refresh()
out['secure_boot_after_boot'] = [sb.enabled, str(sb.current_boot.value)]

bios.reset_bios()
bios.refresh()
out['pending_after_reset'] = dict(bios.pending_attributes)
print(json.dumps(out))
