"""Drives the agent's EventService with sushy the way Ironic's vendor passthru does: reads the
service, creates a subscription with Ironic's body, reads it back, submits a test event, deletes the
subscription. Prints what it observed as one JSON object.
Usage: redfish-sushy-events.py URL CA_FILE USER PASSWORD DESTINATION
Run as Debian ships it: /usr/bin/python3 without REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE."""
import json
import sys

import sushy
from sushy import auth as sushy_auth

url, ca, user, password, destination = sys.argv[1:6]
root = sushy.Sushy(url, auth=sushy_auth.SessionAuth(username=user, password=password), verify=ca)
es = root.get_event_service()
out = {
    'enabled': es.service_enabled,
    'retry_attempts': es.delivery_retry_attempts,
    'retry_interval': es.delivery_retry_interval,
    'event_types': sorted(str(t.value) for t in es.get_event_types_for_subscription()),
}
subscriptions = es.subscriptions
# Ironic's vendor passthru body (ironic/drivers/modules/redfish/vendor.py).
sub = subscriptions.create({
    'Destination': destination,
    'EventTypes': ['Alert'],
    'Context': 'sushy',
    'Protocol': 'Redfish',
    'HttpHeaders': [{'X-Receiver-Token': 'not-shown'}],
})
out['created'] = {'id': sub.identity, 'destination': sub.destination, 'context': sub.context,
                  'protocol': str(sub.protocol.value if hasattr(sub.protocol, 'value') else sub.protocol),
                  'event_types': [str(getattr(t, 'value', t)) for t in (sub.event_types or [])],
                  'http_headers': sub.http_headers}
subscriptions.refresh()
out['members'] = sorted(subscriptions.members_identities)
es.submit_test_event('1', '2026-01-01T00:00:00Z', 'Alert', 'sushy test event', [], 'Base.1.16.0.Success',
                     '/redfish/v1/Systems/1', 'OK')
sub.delete()
subscriptions.refresh()
out['after_delete'] = sorted(subscriptions.members_identities)
print(json.dumps(out))
