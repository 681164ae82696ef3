"""The `kck` command line: every package registers its sub-commands here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kck.errors import USER_ERRORS

# Modules with `register(subparsers)`; each adds its commands and sets `func` on its parsers.
COMMAND_MODULES: tuple[str, ...] = (
    "kck.commands",
    "kb.cli",
    "agentdesk.cli",
    "asterisk.cli",
    "ivr.cli",
    "ivr.speech.cli",
    "demo.cli",
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
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
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
