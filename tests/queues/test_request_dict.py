"""`RoutingRequest.to_dict`, written field by field: the same as `dataclasses.asdict` gives,
every field, and back again with `from_dict`."""

from __future__ import annotations

import dataclasses

from queues.model import IVRStep, RoutingRequest


def _full_request() -> RoutingRequest:
    """Every field set to something other than its default."""
    return RoutingRequest(
        call_id="c1",
        uniqueid="1795526838.7",
        channel="PJSIP/sipp-00000007",
        caller="+48600100200",
        language="en",
        queue="citizens_affairs",
        skills={"id_cards": 3, "taxes": 1},
        priority=2,
        arrived_at="2026-11-24T09:00:00+00:00",
        ivr_path=(
            IVRStep("lang", "Polski", "1", "2026-11-24T08:59:40+00:00"),
            IVRStep("topic", "Dowody osobiste", None, "2026-11-24T08:59:50+00:00"),
        ),
        ivr_path_text="Polski → Dowody osobiste",
        intent="lost_id",
        transcript="zgubiłem dowód",
        kb_topic="id-card",
        ticket_category="documents",
        menu_version="v12",
        variables={"KCK_PESEL_DIGITS": "4"},
        recording_consent=True,
    )


def test_every_field_is_written_as_asdict_would() -> None:
    request = _full_request()
    expected = dataclasses.asdict(request)
    expected["ivr_path"] = [dataclasses.asdict(step) for step in request.ivr_path]
    assert request.to_dict() == expected
    assert list(request.to_dict()) == [f.name for f in dataclasses.fields(RoutingRequest)]


def test_a_request_read_back_is_the_same_request() -> None:
    request = _full_request()
    assert RoutingRequest.from_dict(request.to_dict()) == request


def test_changing_the_dict_leaves_the_request_as_it_was() -> None:
    request = _full_request()
    data = request.to_dict()
    data["skills"]["taxes"] = 9
    data["variables"]["X"] = "y"
    assert request.skills == {"id_cards": 3, "taxes": 1}
    assert request.variables == {"KCK_PESEL_DIGITS": "4"}
