"""Usage texts Asterisk 22 sends with `520-Invalid command syntax` (from its AGI documentation)."""

from __future__ import annotations

# The first five are byte-exact from the captures (agi-session-errors); the others follow the same
# source (the AGI command's description in Asterisk's XML documentation), shortened.
USAGE: dict[str, str] = {
    "STREAM FILE": (
        "Send the given file, allowing playback to be interrupted by the given digits, if any. "
        "Returns <literal>0</literal> if playback completes without a digit being pressed, or the "
        "ASCII numerical value of the digit if one was pressed, or <literal>-1</literal> on error "
        "or if the channel was disconnected. If musiconhold is playing before calling stream file "
        "it will be automatically stopped and will not be restarted after completion.\n"
        "It sets the following channel variables upon completion:\n"
        "<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a text "
        "string.\n"
        "    <value>SUCCESS</value>\n"
        "    <value>FAILED</value>"
    ),
    "GET DATA": (
        "Stream the given <replaceable>file</replaceable>, and receive DTMF data.\n"
        "Returns the digits received from the channel at the other end."
    ),
    "SET VARIABLE": "Sets a variable to the current channel.",
    "WAIT FOR DIGIT": (
        "Waits up to <replaceable>timeout</replaceable> milliseconds for channel to receive a DTMF "
        "digit. Returns <literal>-1</literal> on channel failure, <literal>0</literal> if no digit "
        "is received in the timeout, or the numerical value of the ascii of the digit if one is "
        "received. Use <literal>-1</literal> for the <replaceable>timeout</replaceable> value if "
        "you desire the call to block indefinitely."
    ),
    "EXEC": (
        "Executes <replaceable>application</replaceable> with given "
        "<replaceable>options</replaceable>.\n"
        "Returns whatever the <replaceable>application</replaceable> returns, or "
        "<literal>-2</literal> on failure to find <replaceable>application</replaceable>.\n"
        "<note>NOTE:</note> exec does not evaluate dialplan functions and variables unless it is "
        "explicitly enabled by setting the <variable>AGIEXECFULL</variable> variable to "
        "<literal>yes</literal>."
    ),
    "SAY DIGITS": (
        "Say a given digit string, returning early if any of the given DTMF digits are received "
        "on the channel. Returns <literal>0</literal> if playback completes without a digit being "
        "pressed, or the ASCII numerical value of the digit if one was pressed or "
        "<literal>-1</literal> on error/hangup."
    ),
    "SAY NUMBER": (
        "Say a given number, returning early if any of the given DTMF digits are received on the "
        "channel. Returns <literal>0</literal> if playback completes without a digit being "
        "pressed, or the ASCII numerical value of the digit if one was pressed or "
        "<literal>-1</literal> on error/hangup."
    ),
    "RECORD FILE": (
        "Record to a file until a given dtmf digit in the sequence is received. Returns "
        "<literal>-1</literal> on hangup or error.  The format will specify what kind of file "
        "will be recorded. The <replaceable>timeout</replaceable> is the maximum record time in "
        "milliseconds, or <literal>-1</literal> for no <replaceable>timeout</replaceable>."
    ),
    "GET VARIABLE": (
        "Returns <literal>0</literal> if <replaceable>variablename</replaceable> is not set. "
        "Returns <literal>1</literal> if <replaceable>variablename</replaceable> is set and "
        "returns the variable in parentheses."
    ),
    "GET FULL VARIABLE": (
        "Evaluates the given <replaceable>expression</replaceable> against the channel specified "
        "by <replaceable>channelname</replaceable>, or the current channel if "
        "<replaceable>channelname</replaceable> is not provided."
    ),
    "SET MUSIC": (
        "Enables/Disables the music on hold generator. If <replaceable>class</replaceable> is not "
        "specified, then the <literal>default</literal> music on hold class will be used."
    ),
    "VERBOSE": (
        "Sends <replaceable>message</replaceable> to the console via verbose message system. "
        "<replaceable>level</replaceable> is the verbose level (1-4). Always returns "
        "<literal>1</literal>"
    ),
    "DATABASE PUT": (
        "Adds or updates an entry in the Asterisk database for a given family, key, and value."
    ),
    "DATABASE GET": "Retrieves an entry in the Asterisk database for a given family and key.",
    "DATABASE DEL": "Deletes an entry in the Asterisk database for a given family and key.",
    "SET CONTEXT": "Sets the context for continuation upon exiting the application.",
    "SET EXTENSION": "Changes the extension for continuation upon exiting the application.",
    "SET PRIORITY": "Changes the priority for continuation upon exiting the application.",
}


def usage_reply(command: str) -> str:
    """The multi-line 520 reply for a command called with too few arguments."""
    text = USAGE.get(command, "")
    body = f"{text}\n" if text else ""
    return f"520-Invalid command syntax.  Proper usage follows:\n{body}520 End of proper usage.\n"
