"""What the integration test scripts share: PASS/FAIL lines and free ports."""

import socket

_FAILURES = []


def check(ok, what, detail=""):
    """Prints PASS or FAIL (with the detail when it failed) and returns ok."""
    print("%s %s%s" % ("PASS" if ok else "FAIL", what, (": " + detail) if detail and not ok else ""),
          flush=True)
    if not ok:
        _FAILURES.append(what)
    return ok


def failures():
    return list(_FAILURES)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
