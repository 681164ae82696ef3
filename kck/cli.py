"""The `kck` command line: every package registers its sub-commands here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from agentdesk import cli as agentdesk_cli
from agentdesk.open311 import cli as open311_cli
from demo import cli as demo_cli
from ivr import cli as ivr_cli
from ivr.speech import cli as speech_cli
from kb import cli as kb_cli
from kck import commands, pbx_cli
from kck.errors import USER_ERRORS
from privacy import cli as privacy_cli
from recordings import cli as recordings_cli

# Modules with `register(subparsers)`; each adds its commands and sets `func` on its parsers.
COMMAND_MODULES: tuple[ModuleType, ...] = (
    commands,
    kb_cli,
    agentdesk_cli,
    open311_cli,
    pbx_cli,
    ivr_cli,
    speech_cli,
    recordings_cli,
    privacy_cli,
    demo_cli,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kck",
        description="kck — contact-centre controller for a city hall hotline (Asterisk FastAGI + AMI).",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: $KCK_CONFIG or ./config/settings.yaml)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except USER_ERRORS as exc:
        print(f"kck: error: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
