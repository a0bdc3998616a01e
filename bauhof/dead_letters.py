"""Dead letters, as ingest and the rules engine store them: the message, why, and a code.

The reason is for people; `reason_code` is what programs match (the rules engine turns
'implausible' uplinks into sensor defects), so no code depends on a message's wording.
"""

from __future__ import annotations

import hashlib

# Every code a dead letter can carry (the CHECK of migration 0070 lists the same).
REASON_CODES = frozenset({
    "malformed",            # not a usable event or weather message (JSON, fields, values)
    "too_large",            # larger than the limits
    "implausible",          # readings outside physical limits (bauhof/codecs/plausibility.py)
    "unknown_model",        # the device's model has no codec
    "undecodable",          # the codec refused the payload
    "refused_by_database",  # PostgreSQL refused its rows
    "internal",             # a fault of Bauhof's
    "refused_by_rules",     # a stored reading the rules engine could not use
    "unknown",              # stored before reason codes, wording not recognised
})

INSERT = ("INSERT INTO dead_letters (topic, payload, reason, dev_eui, digest, reason_code)"
          " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (digest) DO NOTHING")


def digest(topic: str, payload: bytes) -> bytes:
    """The dead-letter identity of a message (a redelivered bad message is stored once)."""
    return hashlib.sha256(topic.encode("utf-8", "replace") + b"\0" + payload).digest()
