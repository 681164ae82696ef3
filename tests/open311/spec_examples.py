"""The shapes of the example responses of the GeoReport v2 specification
(http://wiki.open311.org/GeoReport_v2/, "Example response" of each method): its element names,
nesting and order, with values of our own. The spec's JSON examples write codes as `001`, which
is not JSON; here they are strings, as the spec's own field tables say (`service_code`: string)."""

from __future__ import annotations

SERVICE_LIST_XML = """<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>S1</service_code>
        <service_name>Example service</service_name>
        <description>What it is for.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>one, two</keywords>
        <group>somegroup</group>
    </service>
</services>"""

SERVICE_LIST_JSON = """[{"service_code": "S1", "service_name": "Example service",
  "description": "What it is for.", "metadata": true, "type": "realtime",
  "keywords": "one, two", "group": "somegroup"}]"""

SERVICE_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
    <service_code>S1</service_code>
    <attributes>
        <attribute>
            <variable>true</variable>
            <code>A1</code>
            <datatype>singlevaluelist</datatype>
            <required>true</required>
            <datatype_description></datatype_description>
            <order>1</order>
            <description>Which one?</description>
            <values>
                <value>
                    <key>k1</key>
                    <name>First</name>
                </value>
            </values>
        </attribute>
    </attributes>
</service_definition>"""

SERVICE_DEFINITION_JSON = """{"service_code": "S1", "attributes": [{"variable": true,
  "code": "A1", "datatype": "singlevaluelist", "required": true, "datatype_description": null,
  "order": 1, "description": "Which one?", "values": [{"key": "k1", "name": "First"}]}]}"""

POST_RESPONSE_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>R1</service_request_id>
        <service_notice>What happens next.</service_notice>
        <account_id/>
    </request>
</service_requests>"""

POST_RESPONSE_JSON = """[{"service_request_id": "R1", "service_notice": "What happens next.",
  "account_id": null}]"""

TOKEN_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>R1</service_request_id>
        <token>T1</token>
    </request>
</service_requests>"""

TOKEN_JSON = """[{"service_request_id": "R1", "token": "T1"}]"""

REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>R1</service_request_id>
        <status>open</status>
        <status_notes>Notes.</status_notes>
        <service_name>Example service</service_name>
        <service_code>S1</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2026-12-07T10:00:00+01:00</requested_datetime>
        <updated_datetime>2026-12-07T10:00:00+01:00</updated_datetime>
        <expected_datetime>2026-12-08T10:00:00+01:00</expected_datetime>
        <address>Somewhere 1</address>
        <address_id>1</address_id>
        <zipcode>30-001</zipcode>
        <lat>50.06</lat>
        <long>19.93</long>
        <media_url>https://example.org/1.jpg</media_url>
    </request>
</service_requests>"""

REQUESTS_JSON = """[{"service_request_id": "R1", "status": "open", "status_notes": "Notes.",
  "service_name": "Example service", "service_code": "S1", "description": null,
  "agency_responsible": null, "service_notice": null,
  "requested_datetime": "2026-12-07T10:00:00+01:00",
  "updated_datetime": "2026-12-07T10:00:00+01:00",
  "expected_datetime": "2026-12-08T10:00:00+01:00", "address": "Somewhere 1",
  "address_id": 1, "zipcode": "30-001", "lat": 50.06, "long": 19.93,
  "media_url": "https://example.org/1.jpg"}]"""

ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>403</code>
        <description>What is wrong.</description>
    </error>
</errors>"""

ERRORS_JSON = """[{"code": 403, "description": "What is wrong."}]"""
