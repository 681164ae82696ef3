"""The Asterisk 20/22 configuration kck ships: dialplan, manager, PJSIP, fallback queue, MOH."""

from .inputs import (
    AgentPhone,
    AsteriskConfigInputs,
    ConfigInputError,
    OperatorTrunk,
    derive_sip_password,
)
from .render import FILES, render_asterisk_config, render_asterisk_config_text

__all__ = [
    "FILES",
    "AgentPhone",
    "AsteriskConfigInputs",
    "ConfigInputError",
    "OperatorTrunk",
    "derive_sip_password",
    "render_asterisk_config",
    "render_asterisk_config_text",
]
