"""Prompts played outside the menu steps (queue waiting loop, speech step): names and where they play from."""

from __future__ import annotations

# queues.waiting.WaitingPrompts' prompts (with the number words of kck.spoken_numbers, all it plays);
# the announcement's first: the loop cannot tell a caller their place without them
QUEUE_ANNOUNCEMENT_PROMPTS: tuple[str, ...] = (
    "queue_you_are_next",
    "queue_people_ahead",
    "queue_estimated_wait",
    "queue_press_1_callback",
)
QUEUE_PROMPTS: tuple[str, ...] = (
    *QUEUE_ANNOUNCEMENT_PROMPTS,
    "queue_callback_confirmed",
    "queue_callback_unavailable",
    "queue_max_wait_callback",
)
# ivr.speech.SpeechStepConfig's defaults, without the "{lang}/" folder
SPEECH_PROMPTS: tuple[str, ...] = (
    "speech_did_you_mean",
    "speech_press_1_to_confirm",
    "speech_please_repeat",
)
PLAYED_PROMPTS: dict[str, str] = {
    **{name: "the queue's waiting loop" for name in QUEUE_PROMPTS},
    **{name: "the speech step" for name in SPEECH_PROMPTS},
}


def intent_prompt(intent_id: str) -> str:
    """The prompt finishing "did you mean …?" for an intent (config/intents confirm_prompt)."""
    return f"intent_{intent_id}"
