"""Laws of webhook signatures, checked on generated deliveries (Hypothesis).

Whatever the secret, id, timestamp and body: what is signed verifies, within the
tolerance and only within it, and a change of any single byte of the body, of the id or
of the timestamp makes it fail. Rotation accepts any listed secret and no other.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import standardwebhooks
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from licendi.webhooks import (
    InvalidSignature,
    InvalidTimestamp,
    WebhookVerificationError,
    WebhookVerifier,
    sign,
    signature_headers,
)

fast = settings(max_examples=200, deadline=None)

secrets = st.binary(min_size=24, max_size=64).map(
    lambda key: "whsec_" + base64.b64encode(key).decode("ascii")
)
# Header values: visible ASCII (HTTP strips surrounding whitespace, so none is generated).
header_chars = st.characters(min_codepoint=33, max_codepoint=126)
message_ids = st.text(header_chars, min_size=1, max_size=60)
# Unix seconds up to the year 2100: 12-digit times are accepted but never real.
timestamps = st.integers(min_value=0, max_value=4_102_444_800)
bodies = st.binary(max_size=2048)
tolerances = st.integers(min_value=0, max_value=3600)


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> None:
    WebhookVerifier([secret], tolerance=300).verify(headers=headers, body=body, now=now)


@fast
@given(
    secret=secrets,
    msg_id=message_ids,
    timestamp=timestamps,
    body=bodies,
    tolerance=tolerances,
    data=st.data(),
)
def test_a_signed_delivery_verifies_exactly_within_the_tolerance(
    secret, msg_id, timestamp, body, tolerance, data
):
    headers = signature_headers(secret, msg_id, timestamp, body)
    verifier = WebhookVerifier([secret], tolerance=tolerance)

    skew = data.draw(st.integers(min_value=-tolerance, max_value=tolerance), label="skew")
    verifier.verify(headers=headers, body=body, now=timestamp + skew)

    late = data.draw(st.integers(min_value=tolerance + 1, max_value=tolerance + 10**6))
    sign_of_skew = data.draw(st.sampled_from([-1, 1]))
    with pytest.raises(InvalidTimestamp):
        verifier.verify(headers=headers, body=body, now=timestamp + sign_of_skew * late)


@fast
@given(secret=secrets, msg_id=message_ids, timestamp=timestamps, body=bodies, data=st.data())
def test_changing_any_single_byte_of_the_body_fails(secret, msg_id, timestamp, body, data):
    headers = signature_headers(secret, msg_id, timestamp, body)
    change = data.draw(st.sampled_from(["replace", "insert", "delete"] if body else ["insert"]))
    if change == "insert":
        index = data.draw(st.integers(min_value=0, max_value=len(body)))
        byte = data.draw(st.integers(min_value=0, max_value=255))
        tampered = body[:index] + bytes([byte]) + body[index:]
    else:
        index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
        if change == "delete":
            tampered = body[:index] + body[index + 1 :]
        else:
            byte = data.draw(
                st.integers(min_value=0, max_value=255).filter(lambda b: b != body[index])
            )
            tampered = body[:index] + bytes([byte]) + body[index + 1 :]

    with pytest.raises(InvalidSignature):
        verify(secret, headers, tampered, now=timestamp)


@fast
@given(secret=secrets, msg_id=message_ids, timestamp=timestamps, body=bodies, data=st.data())
def test_changing_any_single_character_of_the_id_fails(secret, msg_id, timestamp, body, data):
    headers = signature_headers(secret, msg_id, timestamp, body)
    index = data.draw(st.integers(min_value=0, max_value=len(msg_id) - 1))
    char = data.draw(header_chars.filter(lambda c: c != msg_id[index]))
    headers["webhook-id"] = msg_id[:index] + char + msg_id[index + 1 :]

    with pytest.raises(InvalidSignature):
        verify(secret, headers, body, now=timestamp)


@fast
@given(secret=secrets, msg_id=message_ids, timestamp=timestamps, body=bodies, data=st.data())
def test_changing_any_single_character_of_the_timestamp_fails(
    secret, msg_id, timestamp, body, data
):
    headers = signature_headers(secret, msg_id, timestamp, body)
    text = headers["webhook-timestamp"]
    index = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    char = data.draw(header_chars.filter(lambda c: c != text[index]))
    headers["webhook-timestamp"] = text[:index] + char + text[index + 1 :]

    if char.isdigit():
        # Another valid time, and the clock agrees with it: only the signature can tell.
        with pytest.raises(InvalidSignature):
            verify(secret, headers, body, now=int(headers["webhook-timestamp"]))
    else:
        with pytest.raises(InvalidTimestamp):
            verify(secret, headers, body, now=timestamp)


@fast
@given(
    signer=secrets,
    others=st.lists(secrets, max_size=3),
    position=st.integers(min_value=0, max_value=3),
    msg_id=message_ids,
    timestamp=timestamps,
    body=bodies,
)
def test_rotation_accepts_any_listed_secret_and_no_other(
    signer, others, position, msg_id, timestamp, body
):
    assume(signer not in others)
    headers = signature_headers(signer, msg_id, timestamp, body)
    listed = [*others[:position], signer, *others[position:]]

    WebhookVerifier(listed).verify(headers=headers, body=body, now=timestamp)
    if others:
        with pytest.raises(InvalidSignature):
            WebhookVerifier(others).verify(headers=headers, body=body, now=timestamp)


@fast
@given(
    secret=secrets,
    msg_id=message_ids,
    timestamp=timestamps,
    body=bodies,
    noise=st.lists(
        st.tuples(st.sampled_from(["v1", "v1a", "v2"]), st.binary(min_size=32, max_size=32)),
        max_size=4,
    ),
    data=st.data(),
)
def test_the_valid_signature_passes_among_others_in_the_header(
    secret, msg_id, timestamp, body, noise, data
):
    headers = signature_headers(secret, msg_id, timestamp, body)
    entries = [f"{version},{base64.b64encode(raw).decode()}" for version, raw in noise]
    entries.insert(data.draw(st.integers(0, len(entries))), headers["webhook-signature"])
    headers["webhook-signature"] = " ".join(entries)

    verify(secret, headers, body, now=timestamp)


@fast
@given(secret=secrets, msg_id=message_ids, timestamp=timestamps, body=bodies)
def test_a_wrong_secret_never_verifies(secret, msg_id, timestamp, body):
    other = "whsec_" + base64.b64encode(b"another key, 24 bytes at least").decode()
    assume(other != secret)
    headers = signature_headers(other, msg_id, timestamp, body)
    with pytest.raises(WebhookVerificationError):
        verify(secret, headers, body, now=timestamp)


@fast
@given(secret=secrets, msg_id=message_ids, timestamp=timestamps, text=st.text(max_size=500))
def test_signatures_agree_with_the_standardwebhooks_package(secret, msg_id, timestamp, text):
    theirs = standardwebhooks.Webhook(secret).sign(
        msg_id, datetime.fromtimestamp(timestamp, tz=UTC), text
    )
    assert sign(secret, msg_id, timestamp, text.encode()) == theirs
