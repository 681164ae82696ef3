"""A PBX simulator that behaves like Asterisk 22 on the wire (AMI server + FastAGI client)."""

from .ami_server import AMIServer, AMIUser
from .call import CallOutcome, CallResult, DialAttempt, SimulatedCall
from .call_stream import CITY_HALL_HOURLY_SHAPE, CallStream, CityHallCallers
from .clock import SimClock
from .pbx import PBXSimulator
from .phones import DeviceState, SimulatedPhone
from .scripts import (
    CallerScript,
    DigitPress,
    PhoneBehaviour,
    PhoneMode,
    ScriptError,
    SoundLibrary,
    caller_script_from_mapping,
    load_caller_scripts,
)

__all__ = [
    "CITY_HALL_HOURLY_SHAPE",
    "AMIServer",
    "AMIUser",
    "CallOutcome",
    "CallResult",
    "CallStream",
    "CallerScript",
    "CityHallCallers",
    "DeviceState",
    "DialAttempt",
    "DigitPress",
    "PBXSimulator",
    "PhoneBehaviour",
    "PhoneMode",
    "ScriptError",
    "SimClock",
    "SimulatedCall",
    "SimulatedPhone",
    "SoundLibrary",
    "caller_script_from_mapping",
    "load_caller_scripts",
]
