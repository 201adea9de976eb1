"""Virtual media beyond Ironic's CD flow, driven with sushy (Debian's python3-sushy) through its own
API, and prints what it observed as one JSON object on the last line.

Usage: vmedia-sushy.py URL CA_FILE USER PASSWORD PHASE ARGS...
  usb ISO_URL          ForceOff and wait Off; the first manager's USBStick slot: eject when inserted,
                       InsertMedia(ISO_URL); boot device Usb once; On.
  verify CERT ISO_URL  The first manager's CD slot, empty: set_verify_certificate(True); InsertMedia
                       (ISO_URL) must fail (the server's certificate is not trusted); certificates.
                       create_member(CERT file, PEM); InsertMedia again; then eject, delete the
                       certificate and set_verify_certificate(False).
Session auth, the BMC's certificate verified against CA_FILE. Run as Debian ships it: /usr/bin/python3
without REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (they would override sushy's verify setting)."""
import json
import sys
import time

import sushy
from sushy import auth as sushy_auth
from sushy import exceptions

url, ca, user, password, phase = sys.argv[1:6]
args = sys.argv[6:]
out = {'phase': phase}

root = sushy.Sushy(url, auth=sushy_auth.SessionAuth(username=user, password=password), verify=ca)
system = root.get_system('/redfish/v1/Systems/1')
manager = system.managers[0]


def wait_power(state, attempts=300):
    for _ in range(attempts):
        system.refresh()
        if system.power_state == state:
            return True
        time.sleep(0.2)
    return False


def slot_of(media_type):
    for v_media in manager.virtual_media.get_members():
        if media_type in {str(t.value) for t in v_media.media_types}:
            return v_media
    raise SystemExit('no virtual media slot of type ' + media_type)


if phase == 'usb':
    iso = args[0]
    if system.power_state != sushy.PowerState.OFF:
        system.reset_system(sushy.RESET_FORCE_OFF)
    out['off'] = wait_power(sushy.PowerState.OFF)
    stick = slot_of('USBStick')
    if stick.inserted:
        stick.eject_media()
    stick.insert_media(iso)
    stick.refresh()
    out['inserted'] = [stick.identity, stick.image, stick.inserted]
    system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_USB, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
    system.refresh()
    out['boot'] = [str(system.boot.target.value), str(system.boot.enabled.value)]
    system.reset_system(sushy.RESET_ON)
    out['on'] = wait_power(sushy.PowerState.ON)
    system.refresh()
    out['boot_after'] = [str(system.boot.target.value), str(system.boot.enabled.value)]
elif phase == 'verify':
    cert_file, iso = args
    cd = slot_of('CD')
    out['verify_before'] = cd.verify_certificate
    cd.set_verify_certificate(True)
    cd.refresh()
    out['verify_set'] = cd.verify_certificate
    try:
        cd.insert_media(iso)
        out['untrusted_insert'] = 'accepted'
    except exceptions.HTTPError as err:
        out['untrusted_insert'] = [err.status_code, err.code, err.detail]
    cd.refresh()
    out['inserted_after_refusal'] = [cd.image, cd.inserted]
    with open(cert_file) as f:
        created = cd.certificates.create_member(f.read(), sushy.CertificateType.PEM)
    out['certificate'] = [created.identity, str(created.certificate_type.value), created.subject.common_name]
    cd.certificates.refresh()
    out['certificates'] = cd.certificates.members_identities
    cd.insert_media(iso)
    cd.refresh()
    out['trusted_insert'] = [cd.image, cd.inserted]
    cd.eject_media()
    created.delete()
    cd.set_verify_certificate(False)
    cd.refresh()
    cd.certificates.refresh()
    out['after_cleanup'] = [cd.verify_certificate, cd.certificates.members_identities, cd.inserted]
else:
    raise SystemExit('unknown phase ' + phase)

print(json.dumps(out))
