"""The IVR: YAML menus, their validation and versions, and the interpreter run over FastAGI.

Public face (see docs/ivr.md):
- menus: `read_menu_files`, `validate_files` → `ValidatedMenu`, `MenuSet`, `Problem`
- running a call: `Interpreter(menu, version, gateway=, clock=, speech=).run(channel, CallInfo)`
  → `CallResult`, over any `Channel` (`AGIChannel`, `ScriptedChannel`, terminal)
- handing over: the `QueueGateway` port, typed with `queues.model`'s `RoutingRequest`,
  `CallbackRequest` and `QueueOutcome` (their one home)
- versions: `MenuLibrary` (live / reload / submit / rollback / versions), `MenuRejected`
- FastAGI: `create_ivr_route(library, gateway, bus, clock=, sounds_dir=, recordings_dir=, dial=)`
- runtime: `ivr.component:create_ivr_component`
"""

from ivr.agi_channel import AGIChannel
from ivr.agi_route import IVRFailure, IVRRoute, create_ivr_route
from ivr.channel import CallerHungUp, Channel, DialStatus, KeyInput, Recording, RenderedPrompt
from ivr.interpreter import CallInfo, CallResult, Interpreter, IVROutcome
from ivr.loader import MenuFiles, MenuSet, parse_menu_files, read_menu_files
from ivr.memory_gateway import InMemoryQueueGateway
from ivr.problems import Problem, ProblemList, Severity
from ivr.routing import QueueGateway
from ivr.scripted_channel import ScriptedChannel
from ivr.speech_port import IntentRecogniser, IntentResult, SpeechRequest
from ivr.validation import ValidatedMenu, validate_files
from ivr.versions import LoadedMenu, MenuLibrary, MenuRejected, NoMenuVersion, VersionInfo

__all__ = [
    "AGIChannel",
    "CallInfo",
    "CallResult",
    "CallerHungUp",
    "Channel",
    "DialStatus",
    "IVRFailure",
    "IVROutcome",
    "IVRRoute",
    "InMemoryQueueGateway",
    "IntentRecogniser",
    "IntentResult",
    "Interpreter",
    "KeyInput",
    "LoadedMenu",
    "MenuFiles",
    "MenuLibrary",
    "MenuRejected",
    "MenuSet",
    "NoMenuVersion",
    "Problem",
    "ProblemList",
    "QueueGateway",
    "Recording",
    "RenderedPrompt",
    "ScriptedChannel",
    "Severity",
    "SpeechRequest",
    "ValidatedMenu",
    "VersionInfo",
    "create_ivr_route",
    "parse_menu_files",
    "read_menu_files",
    "validate_files",
]
