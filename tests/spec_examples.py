"""The spec's own example bodies and the schema-shaped variants: the one copy for every layer.

Bodies marked "D2" are copied from the official Dyte v2 OpenAPI file
(`/work/shared/spec/dyte-v2.yaml`, the `examples:` of each path); "CF" from the Cloudflare
RealtimeKit excerpt; "schema-shaped" bodies are built from the schema where the spec gives
no example, or where the schema and the example disagree (ENDPOINTS.md 4.4-4.10), so both
shapes are decoded. Never mutate these dicts: copy them (`copy.deepcopy`) to vary one.

The unit tests decode these bodies (their respx harness is `tests/unit/harness.py`); the
FakeDyte tests check that the fake answers with their field names and JSON types
(`tests/fake/shapes.py`). Credentials and base URLs of the test clients are at the end.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from typing import Any, Final

import respx

JSON = dict[str, Any]

# --- Dyte v2 (D2) examples, by endpoint --------------------------------------------------

#: D2 `POST /meetings/{meeting_id}/livestreams` and `POST /livestreams` request example.
START_LIVESTREAM_REQUEST: Final[JSON] = {"name": "prdmmp-xhycsl"}

#: D2 `POST /meetings/{meeting_id}/livestreams` 201 example (no name/meeting_id/disabled).
START_LIVESTREAM_201: Final[JSON] = {
    "success": True,
    "data": {
        "status": "INVOKED",
        "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
        "id": "7088bba8-f522-49a8-b59b-3cd0e946bbb0",
        "stream_key": "sk_ap-south-1_AfnVpeYZjidO_fBpWKody7sDUOEfy9Zc6XAZegkR0Va",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.rVKA2KM5Lunt.m3u8",
    },
}

#: D2 `GET /meetings/{meeting_id}/active-livestream` 200 example.
ACTIVE_LIVESTREAM_200: Final[JSON] = {
    "success": True,
    "data": {
        "id": "61e03cb4-d4da-42ad-9169-f53360f4f4b4",
        "name": None,
        "status": "LIVE",
        "meeting_id": "bbb03399-24e3-4b0c-90ec-172e97e636be",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.811208621410.channel.9Ztr6yk4vndX.a1c3",
        "created_at": "2023-07-15T11:58:08.404Z",
        "updated_at": "2023-07-15T11:58:24.278Z",
        "disabled": False,
    },
}

#: D2 `POST /meetings/{meeting_id}/active-livestream/stop` 200 example.
STOP_LIVESTREAM_200: Final[JSON] = {
    "success": True,
    "data": {"message": "Stopped live stream successfully"},
}

#: D2 `GET /meetings/{meeting_id}/livestream` 200 example: `data.livestream` object,
#: `data.sessions` array, `paging` at the top level.
MEETING_LIVESTREAMS_200: Final[JSON] = {
    "success": True,
    "data": {
        "livestream": {
            "id": "b60ef3da-fbbb-441b-9168-8235b0035248",
            "name": None,
            "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:233/app/",
            "stream_key": "sk_ap-south-1_x3lKBdJa8UDN_3q6ABCDJnqnbnhyrkXrOG103ABsxnZ",
            "status": "LIVE",
            "meeting_id": "aaa87945-df1c-49d9-8159-262a7ae6cfde",
            "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.855008621410.channel.ob5KQUrP5Zaf.m3u8",
            "created_at": "2023-07-15T07:08:26.634Z",
            "updated_at": "2023-07-15T07:08:40.726Z",
            "disabled": False,
        },
        "sessions": [
            {
                "id": "cf55a850-c3fd-46b5-b5d2-25b3b9aa1686",
                "livestream_id": "b60ef3da-fbbb-441b-9168-8235b0035248",
                "err_message": None,
                "invoked_time": None,
                "started_time": "2023-07-15T07:08:39.000Z",
                "stopped_time": None,
                "created_at": "2023-07-15T07:08:40.742Z",
                "updated_at": "2023-07-15T07:08:40.742Z",
                "ingest_seconds": 60,
                "viewer_seconds": 60,
            }
        ],
    },
    "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
}

#: D2 `GET /livestreams` 200 example: `data` an array, `paging` at the top level.
ALL_LIVESTREAMS_200: Final[JSON] = {
    "success": True,
    "data": [
        {
            "id": "3fd739f4-3c41-456e-bfba-6ebd51e16d2c",
            "name": None,
            "ingest_server": "rtmps://1ab802dd26b0.global-contribute.live-video.net:344/app/",
            "stream_key": "sk_ap-south-1_fiETVh5SNa3V_ABs0NlNCkJqTokqrMbrdWyA1bcII32",
            "status": "IDLE",
            "meeting_id": None,
            "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.811208621215.channel.mA2dNqrBulpi.m3u8",
            "created_at": "2023-07-15T11:48:34.753Z",
            "updated_at": "2023-07-15T11:48:34.753Z",
            "disabled": False,
        }
    ],
    "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
}

#: D2 `POST /livestreams` 201 example.
CREATE_LIVESTREAM_201: Final[JSON] = {
    "success": True,
    "data": {
        "status": "INVOKED",
        "name": "Livestreaming-Demo",
        "meeting_id": None,
        "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
        "id": "78dd0b50-4147-4bb8-88d3-2ccc2e98bff0",
        "stream_key": "sk_ap-south-1_BSErwBSdrcWn_0eG01cFGCJcRcCsflOAX3Eu4B3RyRX",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.Jk1l97eJF0ME.m3u8",
        "disabled": False,
    },
}

_DETAILS_LIVESTREAM: Final[JSON] = {
    "id": "b60ef3da-fbbb-441b-9168-8235b0035248",
    "name": None,
    "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
    "stream_key": "sk_ap-south-1_x3lKBdJa8UDN_3q6PPLMJnqnbnhyrkXrOG504MUsxnZ",
    "status": "LIVE",
    "meeting_id": "bbb87945-df1c-49d9-8159-262a7ae6cfde",
    "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.ob5KQUrP5Zaf.m3u8",
    "created_at": "2023-07-15T07:08:26.634Z",
    "updated_at": "2023-07-15T07:08:40.726Z",
    "disabled": False,
}

_DETAILS_SESSION: Final[JSON] = {
    "id": "cf55a850-c3fd-46b5-b5d2-25b3b9aa1686",
    "livestream_id": "b60ef3da-fbbb-441b-9168-8235b0035248",
    "err_message": None,
    "invoked_time": None,
    "started_time": "2023-07-15T07:08:39.000Z",
    "stopped_time": None,
    "created_at": "2023-07-15T07:08:40.742Z",
    "updated_at": "2023-07-15T07:08:40.742Z",
    "ingest_seconds": 60,
    "viewer_seconds": 60,
}

#: D2 `GET /livestreams/{livestream_id}` 200 example: `data.livestream` + `data.sessions[]`,
#: `paging` at the top level.
LIVESTREAM_200: Final[JSON] = {
    "success": True,
    "data": {"livestream": _DETAILS_LIVESTREAM, "sessions": [_DETAILS_SESSION]},
    "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
}

#: D2 `GET /livestreams/{livestream_id}/active-livestream-session` 200 example:
#: `data.livestream` + `data.session` (one object).
ACTIVE_LIVESTREAM_SESSION_200: Final[JSON] = {
    "success": True,
    "data": {"livestream": _DETAILS_LIVESTREAM, "session": _DETAILS_SESSION},
}

#: D2 `GET /livestreams/sessions/{livestream-session-id}` 200 example.
LIVESTREAM_SESSION_200: Final[JSON] = {"success": True, "data": _DETAILS_SESSION}

#: D2 `GET /sessions/{session_id}/livestream-sessions` 200 example: note `data.data[]` and
#: `data.paging`.
SESSION_LIVESTREAM_SESSIONS_200: Final[JSON] = {
    "success": True,
    "data": {
        "data": [
            {
                "id": "cf55a850-c3fd-46b5-b5d2-25b3b9aa1686",
                "livestream_id": "b60ef3da-fbbb-441b-9168-8235b0035123",
                "err_message": None,
                "invoked_time": None,
                "started_time": "2023-07-15T07:08:39.000Z",
                "stopped_time": "2023-07-15T07:10:45.000Z",
                "created_at": "2023-07-15T07:08:40.742Z",
                "updated_at": "2023-07-15T07:11:47.274Z",
                "ingest_seconds": 118,
                "viewer_seconds": 116.11599994199997,
            }
        ],
        "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
    },
}

#: D2 `POST /livestreams/{livestream_id}/reset-stream-key` 200 example (empty stream_key).
RESET_STREAM_KEY_200: Final[JSON] = {
    "success": True,
    "data": {
        "id": "61e03cb4-d4da-42ad-9169-f53360f4f4b4",
        "name": None,
        "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:223/app/",
        "stream_key": "",
        "status": "LIVE",
        "meeting_id": "bbb03399-24e3-4b0c-90ec-172e97e636be",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.124408622242.channel.9Ztr6yk4vndX.m3a1",
        "created_at": "2023-07-15T11:58:08.404Z",
        "updated_at": "2023-07-15T12:02:48.242Z",
        "disabled": True,
    },
}

#: D2 `PUT /livestreams/{livestream_id}/disable` 200 example (has `org_id`).
DISABLE_LIVESTREAM_200: Final[JSON] = {
    "success": True,
    "data": {
        "status": "LIVE",
        "name": "string",
        "meeting_id": "string",
        "ingest_server": "string",
        "id": "string",
        "stream_key": "string",
        "playback_url": "string",
        "created_at": "2019-08-24T14:15:22Z",
        "updated_at": "2019-08-24T14:15:22Z",
        "disabled": False,
        "org_id": "string",
    },
}

#: D2 `GET /analytics/livestreams/overall` 200 example (wrongly an array, with a `date`).
ANALYTICS_OVERALL_200: Final[JSON] = {
    "success": True,
    "data": [
        {
            "date": "2023-07-15T00:00:00.000Z",
            "count": 4,
            "total_ingest_seconds": 531,
            "total_viewer_seconds": 116,
        }
    ],
}

#: D2 `GET /analytics/livestreams/daywise` 200 example.
ANALYTICS_DAYWISE_200: Final[JSON] = {
    "success": True,
    "data": [
        {
            "date": "2023-07-15T00:00:00.000Z",
            "count": 4,
            "total_ingest_seconds": 531,
            "total_viewer_seconds": 116,
        }
    ],
}

#: D2 `components.schemas.LivestreamBase.x-examples.example-1` (status OFFLINE, in no enum).
LIVESTREAM_BASE_X_EXAMPLE: Final[JSON] = {
    "status": "OFFLINE",
    "name": "Livestreaming-Demo",
    "meeting_id": None,
    "ingest_seconds": 0,
    "viewer_seconds": 0,
    "ingest_server": "rtmps://1ec802dd47a1.global-contribute.live-video.net:344/app/",
    "id": "58dd0b50-4147-4bb8-88d3-2ccc2e98baa0",
    "stream_key": "sk_ap-south-1_ABCrwBSdrcWn_0eG01cFGCJcRcCsflOAX3Eu4B3RyZX",
    "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.100108621410.channel.Ab1l97eJF0ME.m3u8",
}

#: `PUT /livestreams/{livestream_id}/enable` declares `{success, data: LivestreamBase}` and no
#: example: the LivestreamBase x-example in that envelope.
ENABLE_LIVESTREAM_200: Final[JSON] = {"success": True, "data": LIVESTREAM_BASE_X_EXAMPLE}

#: D2 `components.schemas.Meeting.x-examples["Example 1"]` (has an unknown `waiting_room`).
MEETING_X_EXAMPLE: Final[JSON] = {
    "preferred_region": "ap-south-1",
    "waiting_room": False,
    "id": "7f951e37-492b-45dd-8256-7f1660341c17",
    "record_on_start": False,
    "created_at": "2022-11-04T18:22:11.369Z",
    "updated_at": "2022-11-04T18:22:11.369Z",
}

#: `GetMeeting` (`POST /meetings`, `GET/PATCH/PUT /meetings/{id}`) around the Meeting example.
MEETING_200: Final[JSON] = {"success": True, "data": MEETING_X_EXAMPLE}

#: `GetAllMeetings` (PagingResponse) with the Meeting example.
MEETINGS_200: Final[JSON] = {
    "success": True,
    "data": [MEETING_X_EXAMPLE],
    "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
}

# --- D2 error bodies --------------------------------------------------------------------

#: D2 `components.examples.GetActiveSessionNotFoundResponse`.
ERROR_404_NO_ACTIVE_SESSION: Final[JSON] = {
    "success": False,
    "error": {
        "code": 404,
        "message": "No active session found for meeting_id 6bf2b8be-04dd-4191-b602-1128921a306b",
    },
}
#: D2 webhook ops, 400 example.
ERROR_400_NAME_REQUIRED: Final[JSON] = {
    "success": False,
    "error": {"code": 400, "message": 'BAD_REQUEST: "name" is required'},
}
#: D2 webhook ops, 400 example.
ERROR_400_INVALID_GUID: Final[JSON] = {
    "success": False,
    "error": {"code": 400, "message": 'BAD_REQUEST "id" must be a valid GUID'},
}
#: D2 401 example (webhook ops): not the success/error envelope.
ERROR_401_UNAUTHORIZED: Final[JSON] = {"message": "Unauthorized"}


def generic_error(code: int, message: str) -> JSON:
    """A `GenericErrorResponse` body."""
    return {"success": False, "error": {"code": code, "message": message}}


# --- Schema-shaped variants (the schema disagrees with the example) --------------------

#: `GET /livestreams` as its schema says: `data` one object with a nested `paging`,
#: `disabled` a string.
ALL_LIVESTREAMS_200_SCHEMA: Final[JSON] = {
    "success": True,
    "data": {
        "status": "IDLE",
        "id": "3fd739f4-3c41-456e-bfba-6ebd51e16d2d",
        "name": "test",
        "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
        "stream_key": "sk_ap-south-1_fiETVh5SNa3V_MAs0NlNCkJqTokqrMbrdWyA2naII25",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.mA2dNqrBulpi.m3u8",
        "meeting_id": None,
        "created_at": "2023-07-15T11:48:34.753Z",
        "updated_at": "2023-07-15T11:48:34.753Z",
        "disabled": "false",
        "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
    },
}

#: `GET /meetings/{meeting_id}/livestream` as its schema says: `data.livestreams` array,
#: `data.sessions` one object (`ingest_seconds` a string), `data.paging`.
MEETING_LIVESTREAMS_200_SCHEMA: Final[JSON] = {
    "success": True,
    "data": {
        "livestreams": [{**_DETAILS_LIVESTREAM, "disabled": "false"}],
        "sessions": {**_DETAILS_SESSION, "ingest_seconds": "60", "viewer_seconds": "42.5"},
        "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
    },
}

#: `GET /livestreams/{livestream_id}` as its schema says: `data.livestream`, `data.session`
#: (one object), `data.paging`; `disabled` a string.
LIVESTREAM_200_SCHEMA: Final[JSON] = {
    "success": True,
    "data": {
        "livestream": {**_DETAILS_LIVESTREAM, "disabled": "true"},
        "session": _DETAILS_SESSION,
        "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
    },
}

#: `GET /livestreams/{livestream_id}` in the flat shape of the RTMP guide (DD, CFD).
LIVESTREAM_200_RTMP_GUIDE: Final[JSON] = {
    "success": True,
    "data": {
        "status": "OFFLINE",
        "name": "test_livestream",
        "meeting_id": None,
        "ingest_seconds": 0,
        "viewer_seconds": 0,
        "ingest_server": "rtmps://live.cloudflare.com:443/live/",
        "id": "5b1e1b4c-a5d0-4d0e-8f3a-1f5b6c2a9e10",
        "stream_key": "f26566285faca6fbe2e79a73a66rsrrsrrsr3cde23a2bb7dbc6c2c1761b98f4e4",
        "playback_url": "https://customer-s8oj0c1n5ek8ah1e.cloudflarestream.com/7de6a3fec0f9c05bf1df140950d3a237/manifest/video.m3u8",
    },
}

#: `GET /livestreams/{id}/active-livestream-session` with the schema's string-typed numbers.
ACTIVE_LIVESTREAM_SESSION_200_SCHEMA: Final[JSON] = {
    "success": True,
    "data": {
        "livestream": {**_DETAILS_LIVESTREAM, "disabled": "false"},
        "session": {**_DETAILS_SESSION, "ingest_seconds": "118", "viewer_seconds": "116.5"},
    },
}

#: `GET /sessions/{session_id}/livestream-sessions` as its schema says: one flat session
#: object in `data` with `data.paging` (numbers).
SESSION_LIVESTREAM_SESSIONS_200_SCHEMA: Final[JSON] = {
    "success": True,
    "data": {
        **_DETAILS_SESSION,
        "paging": {"total_count": 1.0, "start_offset": 1.0, "end_offset": 1.0},
    },
}

#: `PUT /livestreams/{id}/disable` as its (malformed) schema says: the object under
#: `LivestreamBase`, no `data`.
DISABLE_LIVESTREAM_200_SCHEMA: Final[JSON] = {
    "success": True,
    "LivestreamBase": {**DISABLE_LIVESTREAM_200["data"], "disabled": True},
}

#: `GET /analytics/livestreams/overall` as the schema (and CF's example) says: one object.
ANALYTICS_OVERALL_200_SCHEMA: Final[JSON] = {
    "success": True,
    "data": {"count": 4, "total_ingest_seconds": 531, "total_viewer_seconds": 116},
}

#: `GET /analytics/livestreams/daywise` as the D2 schema says: one object of strings.
ANALYTICS_DAYWISE_200_SCHEMA: Final[JSON] = {
    "success": True,
    "data": {
        "date": "2023-07-15T00:00:00.000Z",
        "count": "4",
        "total_ingest_seconds": "531",
        "total_viewer_seconds": "116",
    },
}

# --- Participants (D2 has no example bodies: built from the schemas) -------------------

_PARTICIPANT: Final[JSON] = {
    "id": "2b4b2a6e-7f3a-4c55-9a1e-3d9a8f1e2c10",
    "name": "Mary Sue",
    "picture": "https://i.imgur.com/test.jpg",
    "custom_participant_id": "mary@example.com",
    "preset_name": "livestream_host",
    "created_at": "2023-07-15T11:58:08.404Z",
    "updated_at": "2023-07-15T11:58:24.278Z",
}
PARTICIPANT_TOKEN: Final = "eyJhbGciOiJSUzI1NiJ9.participant-secret-token.c2lnbmF0dXJl"
REFRESHED_TOKEN: Final = "eyJhbGciOiJSUzI1NiJ9.refreshed-secret-token.c2lnbmF0dXJl"

#: `AddParticipant` (201; also the PATCH answer): Participant + required `token`.
ADD_PARTICIPANT_201: Final[JSON] = {
    "success": True,
    "data": {**_PARTICIPANT, "token": PARTICIPANT_TOKEN},
}
#: `GetParticipant`.
PARTICIPANT_200: Final[JSON] = {"success": True, "data": _PARTICIPANT}
#: `GetAllParticipants` (PagingResponse).
PARTICIPANTS_200: Final[JSON] = {
    "success": True,
    "data": [_PARTICIPANT],
    "paging": {"total_count": 1, "start_offset": 1, "end_offset": 1},
}
#: `RegenToken`.
REGEN_TOKEN_200: Final[JSON] = {"success": True, "data": {"token": REFRESHED_TOKEN}}
#: `DeleteParticipant`.
DELETE_PARTICIPANT_200: Final[JSON] = {
    "success": True,
    "data": {
        "custom_participant_id": "mary@example.com",
        "preset_id": "5a2b6f7e-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "created_at": "2023-07-15T11:58:08.404Z",
        "updated_at": "2023-07-15T11:58:24.278Z",
    },
}

# --- More D2 bodies (the fake's answers are checked against them) ----------------------

#: The Meeting schema with every field the fake answers (D2 has no full example).
MEETING_SCHEMA_SHAPED: Final[JSON] = {
    "id": "7f951e37-492b-45dd-8256-7f1660341c17",
    "title": "Town hall",
    "preferred_region": "ap-south-1",
    "record_on_start": False,
    "live_stream_on_start": False,
    "persist_chat": False,
    "summarize_on_end": False,
    "status": "ACTIVE",
    "created_at": "2022-11-04T18:22:11.369Z",
    "updated_at": "2022-11-04T18:22:11.369Z",
}

#: D2 `GET /meetings/{meeting_id}/active-session` 200 example.
ACTIVE_SESSION_200: Final[JSON] = {
    "success": True,
    "data": {
        "id": "813432c7-3c5a-45e2-9acf-eef7061c7584",
        "associated_id": "6bf2b8be-04dd-4191-b602-1128921a306b",
        "meeting_display_name": "Town hall",
        "type": "meeting",
        "status": "LIVE",
        "live_participants": 1,
        "max_concurrent_participants": 2,
        "minutes_consumed": 2.3434,
        "organization_id": "fake-org-id",
        "started_at": "2022-01-12T14:21:34.388Z",
        "ended_at": None,
        "created_at": "2022-01-12T14:21:34.398Z",
        "updated_at": "2022-01-12T14:26:00.784Z",
    },
}

#: D2 active-session participant (kick / mute answers list these).
SESSION_PARTICIPANT: Final[JSON] = {
    "id": "005f4e0c-4d08-4d4e-a391-a76be75cd296",
    "created_at": "2023-02-01T10:51:08.039Z",
    "updated_at": "2023-02-01T10:56:56.618Z",
    "name": None,
    "picture": None,
}

#: One item of `GET /presets` (schema-shaped).
PRESET_LIST_ITEM: Final[JSON] = {
    "id": "1e8b2f7a-0000-4000-8000-000000000000",
    "name": "livestream_host",
    "created_at": "2023-02-01T10:51:08.039Z",
    "updated_at": "2023-02-01T10:56:56.618Z",
}

# --- Cloudflare RealtimeKit (CF) examples ----------------------------------------------

#: CF `POST .../livestreams` 201 example (64-hex stream key, Cloudflare Stream URLs).
RTK_CREATE_LIVESTREAM_201: Final[JSON] = {
    "data": {
        "disabled": False,
        "id": "78dd0b50-4147-4bb8-88d3-2ccc2e98bff0",
        "ingest_server": "rtmps://live.cloudflare.com:443/live/",
        "meeting_id": None,
        "name": "Livestreaming-Demo",
        "playback_url": "https://customer-s8oj0c1n5ek8ah1e.cloudflarestream.com/7de6a3fec0f9c05bf1df140950d3a237/manifest/video.m3u8",
        "status": "INVOKED",
        "stream_key": "f26566285faca6fbe2e79a73a66rsrrsrrsr3cde23a2bb7dbc6c2c1761b98f4e4",
    },
    "success": True,
}
#: CF `GET .../analytics/livestreams/daywise` 200 example (plain dates).
RTK_ANALYTICS_DAYWISE_200: Final[JSON] = {
    "data": [
        {"count": 4, "date": "2023-07-15", "total_ingest_seconds": 531, "total_viewer_seconds": 116}
    ],
    "success": True,
}


def variant(body: Mapping[str, Any], **changes: Any) -> JSON:
    """A deep copy of `body` with top-level keys changed (a value of `...` removes the key)."""
    out = copy.deepcopy(dict(body))
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def with_data(body: Mapping[str, Any], **changes: Any) -> JSON:
    """A deep copy of `body` with keys of its `data` object changed (`...` removes)."""
    out = copy.deepcopy(dict(body))
    data = out["data"]
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return out


# --- Credentials and base URLs of the test clients ---------------------------------

BASE_URL: Final = "https://api.dyte.io/v2"
ORG_ID: Final = "org-3c1e9f2a-5b7d-4e8f-a1b2-c3d4e5f6a7b8"
API_KEY: Final = "apikey-S3cr3t-7f0d9e8c7b6a5f4e3d2c1b0a"
#: base64("<org>:<key>"): a secret too.
BASIC_TOKEN: Final = base64.b64encode(f"{ORG_ID}:{API_KEY}".encode()).decode("ascii")
AUTHORIZATION: Final = f"Basic {BASIC_TOKEN}"

RTK_ACCOUNT: Final = "023e105f4ecef8ad9ca31a8372d0c353"
RTK_APP: Final = "14a396e7-ca44-4937-bf1f-050a69118543"
RTK_TOKEN: Final = "cf-api-token-Y2xvdWRmbGFyZS1zZWNyZXQ"
RTK_BASE_URL: Final = (
    f"https://api.cloudflare.com/client/v4/accounts/{RTK_ACCOUNT}/realtime/kit/{RTK_APP}"
)

#: Every secret a test may look for in reprs, messages and logs.
SECRETS: Final = (API_KEY, BASIC_TOKEN, RTK_TOKEN, PARTICIPANT_TOKEN, REFRESHED_TOKEN)


def make_router(base_url: str = BASE_URL) -> respx.MockRouter:
    """A respx router on `base_url`; routes not called are not an error."""
    return respx.MockRouter(base_url=base_url, assert_all_called=False)
