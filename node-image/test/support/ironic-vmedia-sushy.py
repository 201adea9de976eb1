"""Replays OpenStack Ironic's redfish-virtual-media boot interface with sushy (Ironic's Redfish
library), request for request as ironic/drivers/modules/redfish/boot.py does it, and prints what it
observed as one JSON object on the last line.

Usage: ironic-vmedia-sushy.py URL CA_FILE USER PASSWORD PHASE [ISO_URL]
  deploy   prepare_ramdisk: System -> Links.ManagedBy managers, ForceOff and wait Off, read the
           transfer protocols offered, eject every inserted CD/DVD of every manager, eject again
           (the iDRAC workaround), InsertMedia(ISO_URL) on the first CD/DVD, boot device Cd once,
           then On (what the conductor sends next).
  reboot   Ironic's reboot of a running node: ForceOff, wait Off, On.
  cleanup  clean_up_ramdisk: ForceOff, wait Off, eject every inserted CD/DVD.
Session auth, the certificate verified against CA_FILE. Run as Debian ships it: /usr/bin/python3
without REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (they would override sushy's verify setting)."""
import json
import sys
import time

import sushy
from sushy import auth as sushy_auth

url, ca, user, password, phase = sys.argv[1:6]
iso = sys.argv[6] if len(sys.argv) > 6 else None
out = {'phase': phase}

root = sushy.Sushy(url, auth=sushy_auth.SessionAuth(username=user, password=password), verify=ca)
system = root.get_system('/redfish/v1/Systems/1')
managers = system.managers


def wait_power(state, attempts=300):
    for _ in range(attempts):
        system.refresh()
        if system.power_state == state:
            return True
        time.sleep(0.2)
    return False


def cd_devices():
    """Every CD/DVD slot of every manager, as Ironic's _eject_vmedia/_insert_vmedia look for them."""
    found = []
    for manager in managers:
        for v_media in manager.virtual_media.get_members():
            types = {str(t.value) for t in v_media.media_types}
            if types & {'CD', 'DVD'}:
                found.append(v_media)
    return found


def eject_all():
    ejected = []
    for v_media in cd_devices():
        if v_media.inserted:
            v_media.eject_media()
            ejected.append(v_media.identity)
    return ejected


def force_off():
    if system.power_state != sushy.PowerState.OFF:
        system.reset_system(sushy.RESET_FORCE_OFF)
    return wait_power(sushy.PowerState.OFF)


if phase == 'deploy':
    out['managers'] = [m.identity for m in managers]
    out['off'] = force_off()
    first = cd_devices()[0]
    # _detect_supported_transport_protocols
    out['transfer_protocols'] = sorted(first.json['Actions']['#VirtualMedia.InsertMedia'].get('TransferProtocolType@Redfish.AllowableValues', []))
    out['ejected'] = eject_all()
    eject_all()
    first.insert_media(iso)
    first.refresh()
    out['inserted'] = [first.identity, first.image, first.inserted, first.write_protected]
    system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_CD, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
    system.refresh()
    out['boot'] = [str(system.boot.target.value), str(system.boot.enabled.value)]
    system.reset_system(sushy.RESET_ON)
    out['on'] = wait_power(sushy.PowerState.ON)
elif phase == 'reboot':
    out['off'] = force_off()
    system.reset_system(sushy.RESET_ON)
    out['on'] = wait_power(sushy.PowerState.ON)
elif phase == 'cleanup':
    out['off'] = force_off()
    out['ejected'] = eject_all()
    out['inserted_after'] = [v.inserted for v in cd_devices()]
else:
    raise SystemExit('unknown phase ' + phase)

system.refresh()
out['boot_after'] = [str(system.boot.target.value), str(system.boot.enabled.value)]
print(json.dumps(out))
