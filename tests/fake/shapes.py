"""What the fake's answers must look like: field names and JSON types of the spec's bodies.

Built from the one copy of the spec's bodies (`tests/spec_examples.py`) for `conforms`
(`tests/fake/conftest.py`): a null means "any type", so fields the spec allows to be null
and the fake fills in (or leaves null) are set to None here.
"""

from __future__ import annotations

from typing import Any, Final

from tests import spec_examples as ex

JSON = dict[str, Any]

PAGING: Final[JSON] = ex.ALL_LIVESTREAMS_200["paging"]

#: A livestream; `meeting_id` is null for an independent one.
LIVESTREAM: Final[JSON] = {**ex.LIVESTREAM_200["data"]["livestream"], "meeting_id": None}
#: A livestream session (`invoked_time`, `stopped_time`, `err_message` nullable).
SESSION: Final[JSON] = ex.LIVESTREAM_SESSION_200["data"]

START: Final[JSON] = ex.START_LIVESTREAM_201
CREATE_INDEPENDENT: Final[JSON] = ex.CREATE_LIVESTREAM_201
ACTIVE_LIVESTREAM: Final[JSON] = ex.ACTIVE_LIVESTREAM_200
STOP: Final[JSON] = ex.STOP_LIVESTREAM_200
MEETING_LIVESTREAM: Final[JSON] = {
    **ex.MEETING_LIVESTREAMS_200,
    "data": {"livestream": LIVESTREAM, "sessions": [SESSION]},
}
ALL_LIVESTREAMS: Final[JSON] = {**ex.ALL_LIVESTREAMS_200, "data": [LIVESTREAM]}
LIVESTREAM_DETAILS: Final[JSON] = {
    **ex.LIVESTREAM_200,
    "data": {"livestream": LIVESTREAM, "sessions": [SESSION]},
}
ACTIVE_LIVESTREAM_SESSION: Final[JSON] = {
    **ex.ACTIVE_LIVESTREAM_SESSION_200,
    "data": {"livestream": LIVESTREAM, "session": SESSION},
}
ONE_SESSION: Final[JSON] = ex.LIVESTREAM_SESSION_200
MEETING_SESSION_LIVESTREAMS: Final[JSON] = {
    **ex.SESSION_LIVESTREAM_SESSIONS_200,
    "data": {
        "data": [{**SESSION, "viewer_seconds": 116.11599994199997}],
        "paging": PAGING,
    },
}
RESET_STREAM_KEY: Final[JSON] = {
    **ex.RESET_STREAM_KEY_200,
    "data": {**LIVESTREAM, "stream_key": "", "disabled": True},
}
DISABLE: Final[JSON] = {**ex.DISABLE_LIVESTREAM_200, "data": {**LIVESTREAM, "org_id": "string"}}
ANALYTICS_OVERALL: Final[JSON] = ex.ANALYTICS_OVERALL_200_SCHEMA
ANALYTICS_DAYWISE: Final[JSON] = ex.ANALYTICS_DAYWISE_200

#: A meeting; `preferred_region` nullable.
MEETING: Final[JSON] = {**ex.MEETING_SCHEMA_SHAPED, "preferred_region": None}
#: A participant; `name` and `picture` nullable.
PARTICIPANT: Final[JSON] = {**ex.PARTICIPANT_200["data"], "name": None, "picture": None}
DELETED_PARTICIPANT: Final[JSON] = ex.DELETE_PARTICIPANT_200["data"]
ACTIVE_SESSION: Final[JSON] = ex.ACTIVE_SESSION_200
SESSION_PARTICIPANT: Final[JSON] = ex.SESSION_PARTICIPANT
PRESET_LIST_ITEM: Final[JSON] = ex.PRESET_LIST_ITEM
ERROR: Final[JSON] = ex.ERROR_404_NO_ACTIVE_SESSION
