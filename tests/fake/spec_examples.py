"""Response examples of the official spec (dyte-v2.yaml), to check field names and JSON types.

Values are the spec's; where the spec's example has null for a field the fake fills (for
example `invoked_time`), the null means "any type".
"""

from __future__ import annotations

from typing import Any

PAGING = {"total_count": 1, "start_offset": 1, "end_offset": 1}

LIVESTREAM: dict[str, Any] = {
    "id": "b60ef3da-fbbb-441b-9168-8235b0035248",
    "name": None,
    "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
    "stream_key": "sk_ap-south-1_x3lKBdJa8UDN_3q6PPLMJnqnbnhyrkXrOG504MUsxnZ",
    "status": "LIVE",
    "meeting_id": None,  # nullable (independent livestreams); the example has a uuid
    "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/x.m3u8",
    "created_at": "2023-07-15T07:08:26.634Z",
    "updated_at": "2023-07-15T07:08:40.726Z",
    "disabled": False,
}

SESSION: dict[str, Any] = {
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

START = {
    "success": True,
    "data": {
        "status": "INVOKED",
        "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
        "id": "7088bba8-f522-49a8-b59b-3cd0e946bbb0",
        "stream_key": "sk_ap-south-1_AfnVpeYZjidO_fBpWKody7sDUOEfy9Zc6XAZegkR0Va",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/x.m3u8",
    },
}

CREATE_INDEPENDENT = {
    "success": True,
    "data": {
        "status": "INVOKED",
        "name": "Livestreaming-Demo",
        "meeting_id": None,
        "ingest_server": "rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
        "id": "78dd0b50-4147-4bb8-88d3-2ccc2e98bff0",
        "stream_key": "sk_ap-south-1_BSErwBSdrcWn_0eG01cFGCJcRcCsflOAX3Eu4B3RyRX",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/x.m3u8",
        "disabled": False,
    },
}

ACTIVE_LIVESTREAM = {
    "success": True,
    "data": {
        "id": "61e03cb4-d4da-42ad-9169-f53360f4f4b4",
        "name": None,
        "status": "LIVE",
        "meeting_id": "bbb03399-24e3-4b0c-90ec-172e97e636be",
        "playback_url": "https://2ec802dd47b0.ap-south-1.playback.live-video.net/x.a1c3",
        "created_at": "2023-07-15T11:58:08.404Z",
        "updated_at": "2023-07-15T11:58:24.278Z",
        "disabled": False,
    },
}

STOP = {"success": True, "data": {"message": "Stopped live stream successfully"}}

MEETING_LIVESTREAM = {
    "success": True,
    "data": {"livestream": LIVESTREAM, "sessions": [SESSION]},
    "paging": PAGING,
}

ALL_LIVESTREAMS = {"success": True, "data": [LIVESTREAM], "paging": PAGING}

LIVESTREAM_DETAILS = MEETING_LIVESTREAM

ACTIVE_LIVESTREAM_SESSION = {
    "success": True,
    "data": {"livestream": LIVESTREAM, "session": SESSION},
}

ONE_SESSION = {"success": True, "data": SESSION}

MEETING_SESSION_LIVESTREAMS = {
    "success": True,
    "data": {"data": [{**SESSION, "viewer_seconds": 116.11599994199997}], "paging": PAGING},
}

RESET_STREAM_KEY = {"success": True, "data": {**LIVESTREAM, "stream_key": "", "disabled": True}}

DISABLE = {"success": True, "data": {**LIVESTREAM, "org_id": "string"}}

ANALYTICS_OVERALL = {
    "success": True,
    "data": {"count": 4, "total_ingest_seconds": 531, "total_viewer_seconds": 116},
}

ANALYTICS_DAYWISE = {
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

MEETING: dict[str, Any] = {
    "id": "7f951e37-492b-45dd-8256-7f1660341c17",
    "title": "Town hall",
    "preferred_region": None,
    "record_on_start": False,
    "live_stream_on_start": False,
    "persist_chat": False,
    "summarize_on_end": False,
    "status": "ACTIVE",
    "created_at": "2022-11-04T18:22:11.369Z",
    "updated_at": "2022-11-04T18:22:11.369Z",
}

PARTICIPANT: dict[str, Any] = {
    "id": "005f4e0c-4d08-4d4e-a391-a76be75cd296",
    "name": None,
    "picture": None,
    "custom_participant_id": "83qi0i",
    "preset_name": "livestream_host",
    "created_at": "2023-02-01T10:51:08.039Z",
    "updated_at": "2023-02-01T10:56:56.618Z",
}

DELETED_PARTICIPANT = {
    "custom_participant_id": "83qi0i",
    "preset_id": "1e8b2f7a-0000-4000-8000-000000000000",
    "created_at": "2023-02-01T10:51:08.039Z",
    "updated_at": "2023-02-01T10:56:56.618Z",
}

ACTIVE_SESSION = {
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

SESSION_PARTICIPANT = {
    "id": "005f4e0c-4d08-4d4e-a391-a76be75cd296",
    "created_at": "2023-02-01T10:51:08.039Z",
    "updated_at": "2023-02-01T10:56:56.618Z",
    "name": None,
    "picture": None,
}

PRESET_LIST_ITEM = {
    "id": "1e8b2f7a-0000-4000-8000-000000000000",
    "name": "livestream_host",
    "created_at": "2023-02-01T10:51:08.039Z",
    "updated_at": "2023-02-01T10:56:56.618Z",
}

ERROR = {"success": False, "error": {"code": 404, "message": "No active session found"}}
