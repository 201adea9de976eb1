#!/usr/bin/python3
"""Drives pyghmi (the IPMI library behind VirtualBMC and parts of Ironic) against a BMC for the
integration tests in pyghmi.int-spec.ts.

Usage: pyghmi-driver.py '<json>' where the JSON object holds
  port, user, password         the BMC on 127.0.0.1
  step_timeout                 seconds each step may take (SIGALRM), default 20
  steps                        a list of {"op": ..., ...} run in order on one pyghmi session

It prints one JSON object on stdout:
  {"login": {"ok": true, "suite": 17, "privilege": 4} | {"ok": false, "error": "..."},
   "results": [{"op": ..., "ok": true, "value": ...} | {"op": ..., "ok": false, "error": "..."}]}
A failed step does not stop the following ones. The session is logged out at the end.
"""
import json
import signal
import sys
import time

from pyghmi.ipmi import command


class StepTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise StepTimeout('step timed out')


def plain(value):
    """Makes pyghmi's answers JSON-safe (bytearrays, tuples, dates, objects)."""
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def sensor(reading):
    return {
        'name': reading.name,
        'type': reading.type,
        'value': reading.value,
        'units': reading.units,
        'health': reading.health,
        'states': plain(reading.states),
        'unavailable': reading.unavailable,
    }


def wait_power(c, state, tries):
    seen = None
    for _ in range(tries):
        seen = c.get_power()['powerstate']
        if seen == state:
            break
        time.sleep(0.1)
    return seen


def run_step(c, step):
    op = step['op']
    if op == 'get_power':
        return c.get_power()
    if op == 'set_power':
        return c.set_power(step['state'], wait=step.get('wait', False))
    if op == 'wait_power':
        return wait_power(c, step['state'], step.get('tries', 100))
    if op == 'set_bootdev':
        return c.set_bootdev(step['dev'], persist=step.get('persist', False), uefiboot=step.get('uefi', False))
    if op == 'get_bootdev':
        return c.get_bootdev()
    if op == 'raw':
        rsp = c.raw_command(netfn=step['netfn'], command=step['command'], data=tuple(step.get('data', [])))
        return {'code': rsp.get('code'), 'netfn': rsp.get('netfn'), 'command': rsp.get('command'),
                'data': list(rsp.get('data', b'')), 'error': rsp.get('error')}
    if op == 'inventory':
        return dict(c.get_inventory())
    if op == 'sensors':
        return [sensor(r) for r in c.get_sensor_data()]
    if op == 'health':
        return c.get_health()
    if op == 'event_log':
        return list(c.get_event_log())
    if op == 'net_config':
        return c.get_net_configuration()
    if op == 'firmware':
        return dict(c.get_firmware())
    raise ValueError('unknown op %r' % op)


def main():
    spec = json.loads(sys.argv[1])
    step_timeout = int(spec.get('step_timeout', 20))
    signal.signal(signal.SIGALRM, _alarm)
    out = {'results': []}
    signal.alarm(step_timeout)
    try:
        c = command.Command(bmc='127.0.0.1', userid=spec['user'], password=spec['password'], port=int(spec['port']))
        s = c.ipmi_session
        # pyghmi proposes suite 17 (RAKP-HMAC-SHA256) first and falls back to suite 3 (SHA-1)
        # when the BMC refuses it; integrityalgo records which one the session uses.
        out['login'] = {'ok': True, 'suite': {256: 17, 1: 3}.get(s.integrityalgo, s.integrityalgo), 'privilege': s.privlevel}
    except Exception as e:  # pyghmi raises IpmiException with the reason
        out['login'] = {'ok': False, 'error': str(e), 'type': type(e).__name__}
        signal.alarm(0)
        print(json.dumps(out))
        return
    signal.alarm(0)
    for step in spec.get('steps', []):
        signal.alarm(step_timeout)
        started = time.monotonic()
        try:
            result = {'op': step['op'], 'ok': True, 'value': plain(run_step(c, step))}
        except Exception as e:
            result = {'op': step['op'], 'ok': False, 'error': str(e), 'type': type(e).__name__}
        finally:
            signal.alarm(0)
        result['ms'] = round((time.monotonic() - started) * 1000)
        out['results'].append(result)
    signal.alarm(step_timeout)
    try:
        c.ipmi_session.logout()
    except Exception as e:
        out['logout_error'] = str(e)
    finally:
        signal.alarm(0)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
