from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
import standardwebhooks

from licendi import ContractError, KeyAssigned
from licendi.webhooks import (
    InvalidSignature,
    InvalidTimestamp,
    MissingHeaders,
    WebhookVerificationError,
    WebhookVerifier,
    decode_secret,
    generate_secret,
    parse_event,
    sign,
    signature_headers,
    verify,
)

# The Standard Webhooks specification's published test vector
# (standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_PAYLOAD = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = 1_800_000_000
BODY = (
    b'{"id": "evt_01J", "type": "key.assigned", "createdAt": "2026-11-26T09:15:00Z",'
    b' "data": {"orderId": "ord-1", "externalId": "PO-1", "sku": "13200::0-0",'
    b' "name": "Office", "key": "XXXXX-SECRET"}}'
)


def vector_headers() -> dict[str, str]:
    return {
        "webhook-id": VECTOR_MSG_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }


def flip_one_char(signature: str) -> str:
    version, encoded = signature.split(",")
    raw = bytearray(base64.b64decode(encoded))
    raw[0] ^= 0x01
    return f"{version},{base64.b64encode(bytes(raw)).decode()}"


# ---------------------------------------------------------------- published vector


def test_sign_reproduces_the_published_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) == VECTOR_SIGNATURE


def test_published_test_vector_verifies() -> None:
    verify(
        secrets=[VECTOR_SECRET], headers=vector_headers(), body=VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP
    )


@pytest.mark.parametrize(
    "altered",
    [
        "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",  # first character
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",  # the spec's own invalid example
    ],
)
def test_published_vector_with_one_character_changed_fails(altered: str) -> None:
    headers = {**vector_headers(), "webhook-signature": altered}

    with pytest.raises(InvalidSignature):
        verify(secrets=[VECTOR_SECRET], headers=headers, body=VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize("field", ["webhook-id", "webhook-timestamp"])
def test_published_vector_with_altered_id_or_timestamp_fails(field: str) -> None:
    headers = vector_headers()
    headers[field] = headers[field][:-1] + ("1" if headers[field][-1] != "1" else "2")

    with pytest.raises(InvalidSignature):
        verify(secrets=[VECTOR_SECRET], headers=headers, body=VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP)


def test_secret_without_prefix_is_the_same_key() -> None:
    assert decode_secret(VECTOR_SECRET) == decode_secret(VECTOR_SECRET.removeprefix("whsec_"))


def test_signatures_match_the_standardwebhooks_package() -> None:
    secret = generate_secret()
    theirs = standardwebhooks.Webhook(secret).sign(
        msg_id="msg_1", timestamp=datetime.fromtimestamp(NOW, tz=UTC), data=BODY.decode()
    )

    assert sign(secret, "msg_1", NOW, BODY) == theirs


def test_standardwebhooks_package_verifies_our_signature() -> None:
    secret = generate_secret()
    now = int(datetime.now(tz=UTC).timestamp())

    payload = standardwebhooks.Webhook(secret).verify(
        BODY, signature_headers(secret, "msg_1", now, BODY)
    )

    assert payload["data"]["orderId"] == "ord-1"


# ---------------------------------------------------------------- tampering


def signed(secret: str, body: bytes = BODY, timestamp: int = NOW) -> dict[str, str]:
    return signature_headers(secret, "msg_abc", timestamp, body)


def test_authentic_delivery_verifies() -> None:
    secret = generate_secret()

    verify(secrets=[secret], headers=signed(secret), body=BODY, now=NOW)


def test_tampered_body_fails() -> None:
    secret = generate_secret()
    tampered = BODY.replace(b"XXXXX-SECRET", b"YYYYY-SECRET")

    with pytest.raises(InvalidSignature):
        verify(secrets=[secret], headers=signed(secret), body=tampered, now=NOW)


def test_reserialised_json_fails_while_raw_bytes_pass() -> None:
    secret = generate_secret()
    headers = signed(secret)
    reserialised = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert json.loads(reserialised) == json.loads(BODY)

    with pytest.raises(InvalidSignature):
        verify(secrets=[secret], headers=headers, body=reserialised, now=NOW)
    verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_flipped_signature_bit_fails() -> None:
    secret = generate_secret()
    headers = signed(secret)
    headers["webhook-signature"] = flip_one_char(headers["webhook-signature"])

    with pytest.raises(InvalidSignature):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_wrong_secret_fails() -> None:
    with pytest.raises(InvalidSignature):
        verify(secrets=[generate_secret()], headers=signed(generate_secret()), body=BODY, now=NOW)


def test_changed_message_id_fails() -> None:
    secret = generate_secret()
    headers = signed(secret)
    headers["webhook-id"] = "msg_other"

    with pytest.raises(InvalidSignature):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_body_that_is_not_utf8_can_still_be_verified() -> None:
    secret = generate_secret()
    body = b"\xff\xfe raw"

    verify(secrets=[secret], headers=signed(secret, body=body), body=body, now=NOW)


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamps_beyond_tolerance_are_rejected(offset: int) -> None:
    secret = generate_secret()
    headers = signed(secret, timestamp=NOW + offset)

    with pytest.raises(InvalidTimestamp):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW, tolerance=300)


@pytest.mark.parametrize("offset", [-299, 299, 0])
def test_timestamps_within_tolerance_are_accepted(offset: int) -> None:
    secret = generate_secret()

    verify(secrets=[secret], headers=signed(secret, timestamp=NOW + offset), body=BODY, now=NOW)


def test_custom_tolerance_is_honoured() -> None:
    secret = generate_secret()
    headers = signed(secret, timestamp=NOW - 61)

    with pytest.raises(InvalidTimestamp):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW, tolerance=60)
    verify(secrets=[secret], headers=headers, body=BODY, now=NOW, tolerance=62)


@pytest.mark.parametrize("bad", ["hello", "1.5e9", "-1", "1800000000.5", "0x6B49D200"])
def test_malformed_timestamp_is_rejected(bad: str) -> None:
    secret = generate_secret()
    headers = signed(secret)
    headers["webhook-timestamp"] = bad

    with pytest.raises(InvalidTimestamp):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


# ---------------------------------------------------------------- headers


def test_several_signatures_in_one_header_pass_if_one_matches() -> None:
    secret = generate_secret()
    good = signed(secret)["webhook-signature"]
    headers = signed(secret)
    headers["webhook-signature"] = " ".join(
        [
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            "garbage-without-comma",
            "v1,not-base64!!",
            good,
        ]
    )

    verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_unknown_signature_versions_are_ignored() -> None:
    secret = generate_secret()
    headers = signed(secret)
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")

    with pytest.raises(InvalidSignature):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_rotated_secrets_accept_either_old_or_new() -> None:
    old, new = generate_secret(), generate_secret()
    verifier = WebhookVerifier([new, old])

    verifier.verify(headers=signed(old), body=BODY, now=NOW)
    verifier.verify(headers=signed(new), body=BODY, now=NOW)
    with pytest.raises(InvalidSignature):
        verifier.verify(headers=signed(generate_secret()), body=BODY, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_rejected(missing: str) -> None:
    secret = generate_secret()
    headers = signed(secret)
    del headers[missing]

    with pytest.raises(MissingHeaders):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_empty_header_counts_as_missing() -> None:
    secret = generate_secret()
    headers = signed(secret)
    headers["webhook-signature"] = "   "

    with pytest.raises(MissingHeaders):
        verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    secret = generate_secret()
    headers = {name.title(): value for name, value in signed(secret).items()}

    verify(secrets=[secret], headers=headers, body=BODY, now=NOW)


def test_all_verification_errors_share_one_base_class() -> None:
    for cls in (MissingHeaders, InvalidTimestamp, InvalidSignature):
        assert issubclass(cls, WebhookVerificationError)


# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize("bad", ["", "whsec_", "whsec_not base64!", "whsec_%%%%"])
def test_malformed_secret_fails_at_configuration_time(bad: str) -> None:
    with pytest.raises(ValueError):
        WebhookVerifier([bad])


def test_verifier_needs_at_least_one_secret() -> None:
    with pytest.raises(ValueError):
        WebhookVerifier([])


def test_a_single_string_is_not_mistaken_for_a_list_of_secrets() -> None:
    with pytest.raises(ValueError):
        WebhookVerifier(generate_secret())


def test_generated_secrets_are_distinct_and_well_formed() -> None:
    first, second = generate_secret(), generate_secret()

    assert first != second
    assert first.startswith("whsec_")
    assert len(decode_secret(first)) == 32


def test_verifier_repr_does_not_show_secrets() -> None:
    secret = generate_secret()

    assert secret.removeprefix("whsec_") not in repr(WebhookVerifier([secret]))


# ---------------------------------------------------------------- events


def test_parse_event_returns_typed_data_without_leaking_the_key_in_repr() -> None:
    event = parse_event(BODY)

    assert isinstance(event.data, KeyAssigned)
    assert event.data.key == "XXXXX-SECRET"
    assert "XXXXX-SECRET" not in repr(event)
    assert "XXXXX-SECRET" not in repr(event.data)


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"type": "key.assigned"}', b'{"id": "evt_1"}']
)
def test_parse_event_rejects_malformed_bodies(body: bytes) -> None:
    with pytest.raises(ContractError):
        parse_event(body)


# --- the other signature schemes (licendi.webhooks.make_verifier) ---------------------


def test_make_verifier_refuses_an_unknown_scheme() -> None:
    from licendi.webhooks import make_verifier

    with pytest.raises(ValueError):
        make_verifier("md5", [generate_secret()])


def test_other_scheme_verifiers_never_show_their_secrets() -> None:
    from licendi.webhooks import make_verifier

    secret = generate_secret()
    for scheme in ("hmac-sha256", "stripe"):
        text = repr(make_verifier(scheme, [secret]))
        assert secret not in text and secret.removeprefix("whsec_") not in text


def test_sign_helpers_round_trip_through_their_verifiers() -> None:
    from licendi.webhooks import make_verifier, sign_body, sign_stripe

    secret, body, at = "plain-shared-secret", b'{"id": "evt_1"}', 1_700_000_000
    for encoding in ("hex", "base64"):
        for prefix in (False, True):
            value = sign_body(secret, body, encoding=encoding, prefix=prefix)
            make_verifier("hmac-sha256", [secret]).verify(headers={"x-signature": value}, body=body)
    make_verifier("stripe", [secret], tolerance=10).verify(
        headers={"Stripe-Signature": sign_stripe(secret, at, body)}, body=body, now=at + 5
    )
    with pytest.raises(InvalidTimestamp):
        make_verifier("stripe", [secret], tolerance=10).verify(
            headers={"Stripe-Signature": sign_stripe(secret, at, body)}, body=body, now=at + 11
        )


def test_one_verifier_of_each_scheme_checks_delivery_after_delivery() -> None:
    """Each verifier keys its HMACs once and copies them per delivery: a delivery (good
    or bad) must leave nothing behind for the next one."""
    import hashlib
    import hmac

    from licendi.webhooks import make_verifier, sign_body, sign_stripe

    secret = generate_secret()
    verifiers = {scheme: make_verifier(scheme, [secret]) for scheme in SCHEMES}

    def headers(scheme: str, body: bytes) -> dict[str, str]:
        if scheme == "standard-webhooks":
            return signature_headers(secret, "msg_1", NOW, body)
        if scheme == "hmac-sha256":
            return {"X-Signature": sign_body(secret, body)}
        return {"Stripe-Signature": sign_stripe(secret, NOW, body)}

    for n in range(20):
        body = BODY + b" " * n
        for scheme, verifier in verifiers.items():
            verifier.verify(headers=headers(scheme, body), body=body, now=NOW)
            with pytest.raises(InvalidSignature):
                verifier.verify(headers=headers(scheme, body), body=body + b"x", now=NOW)
    # And the digest is the plain HMAC of the signed content.
    expected = hmac.new(decode_secret(secret), b"msg_1.%d." % NOW + BODY, hashlib.sha256)
    assert sign(secret, "msg_1", NOW, BODY) == "v1," + base64.b64encode(expected.digest()).decode()


SCHEMES = ("standard-webhooks", "hmac-sha256", "stripe")
