"""`./dev` on a fresh machine says what apt is doing before apt's long silence, and shows apt's
own words when it fails. apt-get and dpkg-query are stand-ins here (a test installs nothing):
they write what they were asked into the same file as the script's output, in order."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).parents[2]
STAND_INS = {
    # every package is missing
    "dpkg-query": "#!/bin/sh\nexit 1\n",
    # apt-get: says what it was asked (into the shared record), chatters on stdout as apt does,
    # and fails the install
    "apt-get": (
        '#!/bin/sh\necho "apt-get $1" >>"$RECORD"\necho "Reading package lists... (apt $1)"\n'
        '[ "$1" = update ] || { echo "E: Unable to locate package espeak-ng"; exit 100; }\n'
    ),
}


def test_dev_says_what_apt_does_before_it_runs_and_shows_apt_s_error(tmp_path: Path) -> None:
    checkout = tmp_path / "kck"
    checkout.mkdir()
    shutil.copy(REPO / "dev", checkout / "dev")
    tools = tmp_path / "bin"
    tools.mkdir()
    for name, script in STAND_INS.items():
        (tools / name).write_text(script)
        (tools / name).chmod(stat.S_IRWXU)
    record = tmp_path / "record"
    env = {**os.environ, "PATH": f"{tools}:/usr/bin:/bin", "RECORD": str(record)}
    with record.open("a") as out:  # the script's lines and apt's calls, in the order they came
        done = subprocess.run(
            [str(checkout / "dev"), "demo"],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=60,
            check=False,
        )
    lines = record.read_text().splitlines()
    assert done.returncode != 0
    update = lines.index("apt-get update")
    install = lines.index("apt-get install")
    assert any(line.startswith("dev: apt-get update") for line in lines[:update])
    assert any(line.startswith("dev: apt-get install") for line in lines[update:install])
    assert not any(line.startswith("Reading package lists") for line in lines)  # in the log
    assert "E: Unable to locate package espeak-ng" in done.stderr
    assert "Reading package lists" in (checkout / "var" / "apt.log").read_text()
