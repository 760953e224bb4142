"""The LinkedIn and TikTok entries of chorus.testing.networks against the emulator: an
account made by control works, a neutral fault step answers in the network's own words on
its publish route, a revoked token is refused, and each post made is in the event log."""

import httpx
import pytest

from chorus.testing import networks
from chorus.testing.emulator import EmulatorServer

LINKEDIN_VERSION = {"LinkedIn-Version": "202601", "X-Restli-Protocol-Version": "2.0.0"}


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def http(emulator):
    emulator.reset()
    with httpx.Client(timeout=10) as client:
        yield client


def linkedin_post(http, emulator, account, text):
    return http.post(
        f"{emulator.base_url}/linkedin/rest/posts",
        headers={"Authorization": f"Bearer {account.credentials.secrets['access_token']}"}
        | LINKEDIN_VERSION,
        json={
            "author": account.remote_id,
            "commentary": text,
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"},
            "lifecycleState": "PUBLISHED",
        },
    )


def test_linkedin_faults_revocation_and_the_event_log(http, emulator):
    entry = networks.NETWORKS["linkedin"]
    account = entry.account(http, emulator.base_url, 0, "t")
    steps = [{"status": 429, "retry_after": 2}, {"status": 503, "after_commit": True}]
    networks.configure_faults(emulator.base_url, {"linkedin": steps})

    limited = linkedin_post(http, emulator, account, "Load post 1 hello")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["status"] == 429 and limited.json()["message"]
    assert emulator.events() == []
    lost = linkedin_post(http, emulator, account, "Load post 2 hello")
    assert lost.status_code == 503 and lost.json()["status"] == 503
    made = linkedin_post(http, emulator, account, "Load post 3 hello")
    assert made.status_code == 201

    logged = {int(e["text"].split()[2]): e for e in emulator.events()}
    assert set(logged) == {2, 3}  # the lost answer's post was made all the same
    assert logged[3]["id"] == made.headers["x-restli-id"]
    assert {e["account"] for e in logged.values()} == {entry.log_account(account)}

    emulator.revoke(entry.revoke_key(account.credentials))
    refused = linkedin_post(http, emulator, account, "Load post 4 hello")
    assert refused.status_code == 401 and refused.json()["code"] == "REVOKED_ACCESS_TOKEN"


def test_tiktok_faults_revocation_and_a_lost_answer_published_all_the_same(http, emulator):
    entry = networks.NETWORKS["tiktok"]
    account = entry.account(http, emulator.base_url, 0, "t")
    api = f"{emulator.base_url}/tiktok/v2"
    auth = {"Authorization": f"Bearer {account.credentials.secrets['access_token']}"}
    body = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {"description": "Load post 7 hello", "privacy_level": "PUBLIC_TO_EVERYONE"},
        # a URL nothing answers: the post is made, then fails once TikTok cannot pull it
        "source_info": {"source": "PULL_FROM_URL", "photo_images": ["http://127.0.0.1:9/a.jpg"]},
    }
    steps = [{"status": 429, "retry_after": 3}, {"status": 503, "after_commit": True}]
    networks.configure_faults(emulator.base_url, {"tiktok": steps})

    limited = http.post(f"{api}/post/publish/content/init/", headers=auth, json=body)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    lost = http.post(f"{api}/post/publish/content/init/", headers=auth, json=body)
    assert lost.status_code == 503 and lost.json()["error"]["code"] == "internal_error"
    posts = http.post(f"{emulator.base_url}/_emulator/tiktok/state", json={}).json()["posts"]
    assert len(posts) == 1 and posts[0]["fail_reason"] == "photo_pull_failed"

    emulator.revoke(entry.revoke_key(account.credentials))
    refused = http.post(f"{api}/post/publish/creator_info/query/", headers=auth, json={})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "access_token_invalid"


def test_tiktok_a_post_nobody_asks_the_status_of_is_published_when_listed(http, emulator):
    """As after a lost init answer: no status read, yet reading the account's video list
    shows it published (TikTok's work goes on whether or not anyone polls)."""
    entry = networks.NETWORKS["tiktok"]
    account = entry.account(http, emulator.base_url, 1, "t")
    api = f"{emulator.base_url}/tiktok/v2"
    auth = {"Authorization": f"Bearer {account.credentials.secrets['access_token']}"}
    # a video sent whole by FILE_UPLOAD (nothing to pull)
    body = {
        "post_info": {"title": "Load post 8 hello", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 10,
            "chunk_size": 10,
            "total_chunk_count": 1,
        },
    }
    started = http.post(f"{api}/post/publish/video/init/", headers=auth, json=body).json()
    upload = started["data"]["upload_url"]
    put = http.put(upload, content=b"0123456789", headers={"Content-Range": "bytes 0-9/10"})
    assert put.status_code == 201
    assert emulator.events() == []  # received, not yet processed
    listed = http.post(
        f"{api}/video/list/?fields=id,title", headers=auth, json={"max_count": 20}
    ).json()["data"]["videos"]
    assert [v["title"] for v in listed] == ["Load post 8 hello"]
    (event,) = emulator.events()
    assert event["network"] == entry.log_name and event["account"] == entry.log_account(account)
    assert event["id"] == listed[0]["id"]
