"""The unit's link: genuine and in time it grants one unit one matter; anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from matters.links import LinkProblem, LinkRefused, LinkSigner, load_or_create_secret

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SIGNER = LinkSigner(b"0123456789abcdef0123456789abcdef", timedelta(days=30))


def refused(token: str, now: datetime = NOW, **scope: str) -> LinkProblem:
    with pytest.raises(LinkRefused) as caught:
        SIGNER.verify(token, now, **scope)
    return caught.value.problem


def test_a_genuine_link_grants_its_unit_its_matter_until_it_expires() -> None:
    token = SIGNER.issue("KCK-2026-000001", "ZZM", NOW)
    grant = SIGNER.verify(token, NOW + timedelta(days=29), matter="KCK-2026-000001", unit="ZZM")
    assert (grant.matter, grant.unit) == ("KCK-2026-000001", "ZZM")
    assert grant.expires == NOW + timedelta(days=30)


def test_a_link_changed_anywhere_is_refused_as_tampered() -> None:
    token = SIGNER.issue("KCK-2026-000001", "ZZM", NOW)
    matter, unit, expires, signature = token.split(".")
    assert refused(f"KCK-2026-000002.{unit}.{expires}.{signature}") is LinkProblem.TAMPERED
    assert refused(f"{matter}.SM.{expires}.{signature}") is LinkProblem.TAMPERED
    assert refused(f"{matter}.{unit}.{int(expires) + 86400}.{signature}") is LinkProblem.TAMPERED
    assert refused(f"{matter}.{unit}.{expires}.{signature[:-2]}AA") is LinkProblem.TAMPERED
    other = LinkSigner(b"another secret of 32 bytes......", timedelta(days=30))
    assert refused(other.issue("KCK-2026-000001", "ZZM", NOW)) is LinkProblem.TAMPERED
    assert refused("not-a-token") is LinkProblem.MALFORMED


def test_an_expired_link_is_refused_from_the_second_it_expires() -> None:
    token = SIGNER.issue("KCK-2026-000001", "ZZM", NOW)
    assert refused(token, NOW + timedelta(days=30)) is LinkProblem.EXPIRED


def test_a_link_for_another_unit_or_matter_is_refused() -> None:
    token = SIGNER.issue("KCK-2026-000001", "ZZM", NOW)
    assert refused(token, unit="SM") is LinkProblem.WRONG_UNIT
    assert refused(token, matter="KCK-2026-000002") is LinkProblem.WRONG_MATTER


def test_a_residents_reply_link_and_a_units_link_do_not_open_each_other() -> None:
    reply = SIGNER.issue("KCK-2026-000001", "ZZM", NOW, purpose="reply")
    unit = SIGNER.issue("KCK-2026-000001", "ZZM", NOW)
    assert SIGNER.verify(reply, NOW, purpose="reply").unit == "ZZM"
    assert refused(reply) is LinkProblem.TAMPERED
    with pytest.raises(LinkRefused) as caught:
        SIGNER.verify(unit, NOW, purpose="reply")
    assert caught.value.problem is LinkProblem.TAMPERED


def test_the_form_token_belongs_to_its_link_only() -> None:
    first = SIGNER.issue("KCK-2026-000001", "ZZM", NOW)
    second = SIGNER.issue("KCK-2026-000001", "SM", NOW)
    assert SIGNER.check_form_token(first, SIGNER.form_token(first))
    assert not SIGNER.check_form_token(first, SIGNER.form_token(second))
    assert not SIGNER.check_form_token(first, "")


def test_without_a_configured_secret_one_is_made_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create_secret("", tmp_path)
    assert load_or_create_secret("", tmp_path) == first
    assert len(first) >= 32
    assert (tmp_path / "unit-links.secret").stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret("configured", tmp_path) == b"configured"
