"""What PyPI's project JSON can say about pinned packages when its per-version endpoint cannot.

    python scripts/audit_pypi.py layers/banditkit/requirements.txt [more.txt ...]

pip-audit's PyPI service reads https://pypi.org/pypi/NAME/VERSION/json. Where only the project
endpoint https://pypi.org/pypi/NAME/json answers (the build machines' PyPI proxy), pip-audit
skips every package. The project endpoint still lists the advisories that affect the latest
release, so for each `name==version` this prints: `ok` (the pin is the latest release and
PyPI lists no advisory for it), `VULNERABLE` (advisory ids), or `behind` (a newer release
exists: PyPI's project data cannot say whether the pinned one is affected; upgrade, or audit
it where OSV or the per-version API is reachable). Exit status 1 when any pin is VULNERABLE.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

PIN = re.compile(r"^\s*([A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def pins(paths: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            m = PIN.match(line)
            if m:
                out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def project(name: str) -> dict[str, object] | None:
    url = f"https://pypi.org/pypi/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            data: dict[str, object] = json.load(response)
            return data
    except (urllib.error.URLError, TimeoutError, ValueError):
        return None


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    vulnerable = behind = unknown = 0
    print(f"{'package':<28} {'pinned':<16} {'latest':<16} result")
    for name, version in sorted(pins(argv).items()):
        data = project(name)
        info = data.get("info") if data else None
        if not isinstance(info, dict) or data is None:
            unknown += 1
            print(f"{name:<28} {version:<16} {'?':<16} unknown (not on PyPI or unreachable)")
            continue
        latest = str(info.get("version"))
        advisories = data.get("vulnerabilities")
        listed = advisories if isinstance(advisories, list) else []
        ids = [str(a.get("id")) for a in listed if isinstance(a, dict)]
        if version != latest:
            behind += 1
            result = "behind (not checkable here)"
        elif ids:
            vulnerable += 1
            result = "VULNERABLE " + " ".join(ids)
        else:
            result = "ok (latest, no advisory)"
        print(f"{name:<28} {version:<16} {latest:<16} {result}")
    total = len(pins(argv))
    print(
        f"\n{total} pins: {total - vulnerable - behind - unknown} ok, {vulnerable} vulnerable, "
        f"{behind} behind the latest release (not checkable here), {unknown} unknown"
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
