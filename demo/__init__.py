"""`kck demo`: the real controller driven from outside as Asterisk and people would drive it.

Not part of the controller: nothing in the runtime packages imports it (import-linter checks).
- `demo.simulator`: a simulated Asterisk (AMI server, FastAGI client, phones, the shipped
  dialplan's behaviour with its fallback queue), checked against real Asterisk transcripts; also
  the PBX of most tests and of the benchmarks.
- `demo.component`: the demo's runtime part — phones for every agent, simulated agents, a stream
  of simulated callers walking the shipped menu.
- `demo.cli`: the `kck demo` command.
"""

from demo.component import DemoCallers, DemoComponent, demo_part

__all__ = ["DemoCallers", "DemoComponent", "demo_part"]
