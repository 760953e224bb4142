"""TikTok against the emulated TikTok API: connecting through Chorus's OAuth flow, Direct
Post of videos by chunked file upload, the status as it moves on, the private-only rule
before the app's audit, reconciliation, counts, and what TikTok does not offer (deleting,
comments). Media TikTok pulls from Chorus's links: test_tiktok_pull.py."""

import struct
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from chorus.core.errors import ServiceError
from chorus.networks import services
from chorus.networks.providers.base import (
    AuthExpired,
    Media,
    PostDraft,
    RateLimited,
    Rejected,
    Transient,
)
from chorus.networks.providers.tiktok import PublishProcessing, TikTok
from chorus.publishing import services as publishing
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus
from chorus.testing.emulator import EmulatorServer

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64
MB = 1024 * 1024


def mp4(seconds: int, padding: int = 64) -> bytes:
    """A small MP4: `ftyp`, `moov` with a version-0 `mvhd` (timescale 1000), `mdat`."""
    ftyp = struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 512, b"isom")
    mvhd_body = struct.pack(">B3xIIII", 0, 0, 0, 1000, seconds * 1000) + b"\0" * 80
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    mdat = struct.pack(">I4s", 8 + padding, b"mdat") + b"\0" * padding
    return ftyp + moov + mdat


@pytest.fixture(scope="module")
def running():
    with EmulatorServer(latency=0, rate_limit=None) as server:
        yield server


def options(emulator, **more) -> dict:
    base = f"{emulator.base_url}/tiktok"
    app = {"client_key": "chorus-tt", "client_secret": "s3cret", "api_url": base}
    return {"tiktok": {**app, "auth_url": base, **more}}


@pytest.fixture
def emulator(running, settings):
    running.reset()
    settings.CHORUS_NETWORK_OPTIONS = options(running)
    return running


def control(emulator, action, **body):
    answer = httpx.post(f"{emulator.base_url}/_emulator/tiktok/{action}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def posts(emulator) -> list[dict]:
    return control(emulator, "state")["posts"]


def allow(url: str, username="brand_tiktok", decision="allow") -> dict[str, list[str]]:
    """What the browser does on TikTok's authorization page; the query Chorus gets back."""
    page = httpx.get(url)
    assert page.status_code == 200 and "Log in to TikTok" in page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = httpx.post(
        url.split("?")[0], data={**query, "username": username, "decision": decision}
    )
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)


def signed_in(username="brand_tiktok") -> TikTok:
    app = TikTok.register_app("", redirect_uri="https://chorus.test/cb", http=httpx.Client())
    back = allow(TikTok.authorization_url(app, state="s"), username)
    credentials = TikTok.exchange_code(app, back["code"][0], http=httpx.Client())
    tiktok = TikTok(credentials, http=httpx.Client(timeout=30))
    tiktok.verify()
    return tiktok


def video(seconds=15, padding=64, name="clip.mp4") -> Media:
    return Media(mp4(seconds, padding), "video/mp4", filename=name)


def draft(text="", key="k1", **more) -> PostDraft:
    return PostDraft(text=text, idempotency_key=key, **more)


def test_connect_through_chorus(emulator, owner):
    url = services.oauth_begin(actor=owner, provider_key="tiktok")
    query = parse_qs(urlsplit(url).query)
    assert "video.publish" in query["scope"][0] and query["client_key"] == ["chorus-tt"]
    back = allow(url, "news_desk")
    account = services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])
    assert account.provider == "tiktok" and account.handle == "news_desk"
    assert account.secrets["refresh_token"].startswith("rft.")


def test_connect_refused_by_the_person_gives_no_code(emulator, owner):
    back = allow(services.oauth_begin(actor=owner, provider_key="tiktok"), decision="deny")
    assert back["error"] == ["access_denied"] and "code" not in back


def test_needs_setup_without_the_app(owner, settings):
    settings.CHORUS_NETWORK_OPTIONS = {"tiktok": {}}
    assert TikTok.missing_settings({}) == [
        "CHORUS_TIKTOK_CLIENT_KEY",
        "CHORUS_TIKTOK_CLIENT_SECRET",
    ]
    with pytest.raises(ServiceError):
        services.oauth_begin(actor=owner, provider_key="tiktok")


def test_wrong_secret_is_refused(emulator):
    control(emulator, "client", client_key="chorus-tt", client_secret="other")
    app = TikTok.register_app("", redirect_uri="https://chorus.test/cb", http=httpx.Client())
    back = allow(TikTok.authorization_url(app, state="s"))
    with pytest.raises(Rejected, match="Client key or secret"):
        TikTok.exchange_code(app, back["code"][0], http=httpx.Client())


def test_refresh_and_expired_tokens(emulator):
    tiktok = signed_in()
    old = dict(tiktok.credentials.secrets)
    tiktok.credentials.secrets["expires_at"] = "1"  # due: renewed before the next call
    assert tiktok.verify().handle == "brand_tiktok"
    assert tiktok.credentials_changed
    assert tiktok.credentials.secrets["access_token"] != old["access_token"]
    tiktok.credentials.secrets["refresh_token"] = old["refresh_token"]  # used once already
    with pytest.raises(AuthExpired):
        tiktok.refresh()
    control(emulator, "expire")
    with pytest.raises(AuthExpired):
        tiktok.fetch_account_metrics()


def test_video_by_file_upload_is_private_before_the_audit(emulator):
    tiktok = signed_in()
    post = tiktok.publish(draft("Behind the scenes #chorus", media=(video(),)))
    [made] = posts(emulator)
    assert made["source"] == "FILE_UPLOAD" and made["status"] == "PUBLISH_COMPLETE"
    assert made["privacy"] == "SELF_ONLY" and made["caption"] == "Behind the scenes #chorus"
    assert made["disable_comment"] is False
    # a private post has no public id: it is known by its publish_id
    assert post.ref.remote_id == made["id"] == post.ref.extra["publish_id"]
    assert "pending_publishes" in tiktok.credentials.identity
    assert tiktok.credentials.identity["pending_publishes"] == {}
    assert "private" in TikTok.notice()


def test_large_video_goes_in_chunks(emulator):
    tiktok = signed_in()
    tiktok.publish(draft("Long take", media=(video(padding=25 * MB),)))
    [made] = posts(emulator)
    assert made["chunks"] == 2 and made["size"] == made["received"] > 25 * MB
    assert made["status"] == "PUBLISH_COMPLETE"


def test_what_tiktok_cannot_take_is_refused_before_any_call(emulator):
    tiktok = signed_in()
    with pytest.raises(Rejected, match="video or photos"):
        tiktok.publish(draft("Only words"))
    with pytest.raises(Rejected, match="2200"):
        tiktok.publish(draft("a" * 2201, media=(video(),)))
    with pytest.raises(Rejected, match="JPEG or WebP"):
        tiktok.publish(draft("A PNG", media=(Media(JPEG, "image/png", filename="a.png"),)))
    with pytest.raises(Rejected, match="one video alone"):
        tiktok.publish(draft("Mixed", media=(video(), Media(JPEG, "image/jpeg", filename="a"))))
    assert posts(emulator) == []


def test_creator_settings_are_obeyed(emulator, settings):
    tiktok = signed_in()
    control(emulator, "configure", max_duration=60, comment_disabled=True)
    with pytest.raises(Rejected, match="up to 60 seconds"):
        tiktok.publish(draft("Too long", media=(video(seconds=90),)))
    tiktok.publish(draft("Short", key="k2", media=(video(seconds=30),)))
    assert posts(emulator)[0]["disable_comment"] is True
    settings.CHORUS_NETWORK_OPTIONS = options(emulator, audited="1")
    control(emulator, "configure", audited=True, privacy_options=["SELF_ONLY"])
    with pytest.raises(Rejected, match="cannot post as PUBLIC_TO_EVERYONE"):
        tiktok.publish(draft("Public", key="k3", media=(video(),)))
    assert len(posts(emulator)) == 1


def test_unaudited_app_posting_publicly_is_told_why(emulator, settings):
    settings.CHORUS_NETWORK_OPTIONS = options(emulator, audited="1")  # claims an audit
    tiktok = signed_in()
    with pytest.raises(Rejected, match="audited") as raised:
        tiktok.publish(draft("Public", media=(video(),)))
    assert "TikTok log id" in raised.value.message


def test_public_post_gets_its_id_after_moderation_and_counts(emulator, settings):
    settings.CHORUS_NETWORK_OPTIONS = options(emulator, audited="1")
    control(emulator, "configure", audited=True, moderation_checks=1)
    tiktok = signed_in()
    post = tiktok.publish(draft("Public now", media=(video(),)))
    [made] = posts(emulator)
    assert post.ref.remote_id == made["id"]  # moderation not finished: the publish_id
    control(emulator, "metrics", publish_id=made["id"], like_count=5, view_count=80)
    [metrics] = tiktok.fetch_post_metrics([post.ref])
    assert metrics.ref == post.ref and metrics.likes == 5 and metrics.extra["views"] == 80
    [listed] = tiktok.fetch_own_posts()
    assert "/video/" in listed.ref.url
    account = tiktok.fetch_account_metrics()
    assert account.followers == 120 and account.posts == 1 and account.extra["likes"] == 940


def test_processing_is_waited_for_not_sent_again(emulator):
    tiktok = signed_in()
    control(emulator, "configure", processing_checks=1)
    since = timezone.now()
    with pytest.raises(PublishProcessing):
        tiktok.publish(draft("Slow one", media=(video(),)))
    found = tiktok.find_published(draft("Slow one", media=(video(),)), since=since)
    assert found is not None and found.ref.remote_id == posts(emulator)[0]["id"]
    assert len(posts(emulator)) == 1


def test_a_video_whose_last_chunk_never_arrived_is_sent_again_once_it_expired(emulator):
    tiktok = signed_in()
    control(emulator, "fail", route="upload", status=503, code="internal_error")
    with pytest.raises(Transient):
        tiktok.publish(draft("Cut off", media=(video(),)))
    with pytest.raises(PublishProcessing):  # within the hour: TikTok may still get it
        tiktok.publish(draft("Cut off", media=(video(),)))
    tiktok.credentials.identity["pending_publishes"]["k1"]["at"] -= 2 * 3600
    tiktok.publish(draft("Cut off", media=(video(),)))
    assert [p["status"] for p in posts(emulator)] == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]


def test_failed_post_is_rejected_with_the_reason(emulator):
    tiktok = signed_in()
    control(emulator, "configure", fail_reason="frame_rate_check_failed")
    with pytest.raises(Rejected, match="frame rate"):
        tiktok.publish(draft("Jerky", media=(video(),)))
    assert tiktok.credentials.identity["pending_publishes"] == {}
    control(emulator, "configure", fail_reason="spam_risk_too_many_posts")
    with pytest.raises(RateLimited, match="daily limit"):
        tiktok.publish(draft("Busy day", key="k2", media=(video(),)))
    control(emulator, "configure", fail_reason="auth_removed")
    with pytest.raises(AuthExpired, match="Reconnect"):
        tiktok.publish(draft("Gone", key="k3", media=(video(),)))


def test_internal_failure_is_sent_again(emulator):
    tiktok = signed_in()
    control(emulator, "configure", fail_reason="internal")
    with pytest.raises(Transient):
        tiktok.publish(draft("Again", media=(video(),)))
    control(emulator, "configure", fail_reason="")
    tiktok.publish(draft("Again", media=(video(),)))
    assert [p["status"] for p in posts(emulator)] == ["FAILED", "PUBLISH_COMPLETE"]


def test_six_inits_a_minute(emulator):
    tiktok = signed_in()
    control(emulator, "configure", inits_per_minute=1)
    tiktok.publish(draft("One", media=(video(),)))
    with pytest.raises(RateLimited):
        tiktok.publish(draft("Two", key="k2", media=(video(),)))


def test_no_delete_and_no_comments(emulator):
    tiktok = signed_in()
    post = tiktok.publish(draft("Stays", media=(video(),)))
    with pytest.raises(Rejected, match="delete it in the TikTok app"):
        tiktok.delete(post.ref)
    page = tiktok.fetch_interactions("c")
    assert page.items == () and page.cursor == "c" and "comments" in page.warnings[0]


def connect(owner, username="brand_tiktok"):
    back = allow(services.oauth_begin(actor=owner, provider_key="tiktok"), username)
    return services.oauth_complete(actor=owner, state=back["state"][0], code=back["code"][0])


def publish_now(owner, account, text, asset):
    post = publishing.post_save(
        actor=owner,
        variants=[
            publishing.VariantInput(account_id=account.pk, text=text, media=[(asset.pk, "")])
        ],
    )
    publishing.post_publish_now(actor=owner, post=post)
    return Variant.objects.get(post=post)


@pytest.fixture
def clip(owner):
    from django.core.files.base import ContentFile

    from chorus.publishing.models import MediaAsset

    data = mp4(12)
    asset = MediaAsset(workspace=owner.workspace, mime_type="video/mp4", size=len(data))
    asset.file.save("clip.mp4", ContentFile(data), save=False)
    asset.save()
    return asset


def test_dispatcher_settles_a_processing_post_once(owner, emulator, clip):
    account = connect(owner)
    control(emulator, "configure", processing_checks=1)
    variant = publish_now(owner, account, "Exactly once on TikTok", clip)
    Dispatcher().run_once()
    assert Variant.objects.get(pk=variant.pk).status == VariantStatus.SCHEDULED
    Dispatcher().run_once(now=timezone.now() + timedelta(minutes=1))
    variant.refresh_from_db()
    made = posts(emulator)
    assert len(made) == 1, "published twice"
    assert variant.status == VariantStatus.PUBLISHED and variant.remote_id == made[0]["id"]
