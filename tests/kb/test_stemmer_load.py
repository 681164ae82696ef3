"""Loading the Polish stemmer (≈5 s, in a thread) leaves the process's stderr alone and prints
nothing: pystempel's progress bar and deprecation warning are silenced for pystempel only."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys, threading
from kb.analysis import polish_analyzer
stderr = sys.stderr
loader = threading.Thread(target=polish_analyzer)
loader.start()
swapped = 0
while loader.is_alive():
    swapped += sys.stderr is not stderr
print(swapped)
"""


def test_stemmer_load_in_a_thread_never_swaps_stderr_and_prints_nothing() -> None:
    probe = subprocess.run(
        [sys.executable, "-W", "default", "-c", _PROBE], capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "0"  # the main thread always saw the real stderr
    assert probe.stderr == ""  # no progress bar, no DeprecationWarning
