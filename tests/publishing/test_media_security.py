"""Issue 10.1 and 10.2: uploads are what they claim by content, safe to serve, and bounded.

Each test replays an attack from the security review: an HTML or SVG file that ran script
on Chorus's origin when a member opened it, a decompression bomb, a 200 MB file, an .exe.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from tests.publishing import samples

from chorus.accounts.roles import Role
from chorus.publishing.models import MediaAsset

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def upload(client, name, content, kind="application/octet-stream", htmx=False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        "/media/upload/", {"upload": SimpleUploadedFile(name, content, kind)}, **headers
    )


# --------------------------------------------------------------------------- what is accepted


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("page.html", samples.HTML_ATTACK, "text/html"),
        ("photo.png", samples.HTML_ATTACK, "image/png"),  # lies about its type
        ("logo.svg", samples.SVG_ATTACK, "image/svg+xml"),
        ("logo.png", samples.SVG_ATTACK, "image/png"),
        ("setup.exe", samples.EXE, "application/octet-stream"),
        ("cat.jpg", samples.EXE, "image/jpeg"),
        ("notes.txt", "សួស្តី ข้อความ".encode(), "text/plain"),
    ],
)
def test_markup_programs_and_text_are_refused_whatever_their_name(owner, name, content, kind):
    response = upload(client_for(owner), name, content, kind)
    assert response.status_code == 422
    assert "cannot" in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_a_refusal_reaches_the_composer_through_htmx(owner):
    response = upload(client_for(owner), "x.svg", samples.SVG_ATTACK, "image/svg+xml", htmx=True)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#upload-status"
    assert "SVG, HTML and other text files cannot be attached" in response.content.decode()


def test_images_are_re_encoded_without_their_metadata(owner):
    original = samples.jpeg_with_gps()
    assert b"PhoneMaker" in original and b"secret comment" in original
    assert upload(client_for(owner), "holiday.png", original, "image/png").status_code == 200
    asset = MediaAsset.objects.get()
    stored = asset.file.open("rb").read()
    assert asset.mime_type == "image/jpeg" and asset.file.name.endswith(".jpg")
    assert (asset.width, asset.height, asset.size) == (8, 6, len(stored))
    assert b"PhoneMaker" not in stored and b"secret comment" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and 0x8825 not in image.getexif()
        assert image.size == (8, 6)


def test_animated_gifs_keep_their_frames(owner):
    assert upload(client_for(owner), "wave.gif", samples.animated_gif(3)).status_code == 200
    asset = MediaAsset.objects.get()
    with Image.open(asset.file.open("rb")) as image:
        assert (asset.mime_type, image.n_frames) == ("image/gif", 3)


@pytest.mark.parametrize(
    ("content", "mime_type", "extension"),
    [
        (samples.mp4(), "video/mp4", ".mp4"),
        (samples.mp4(b"qt  "), "video/quicktime", ".mov"),
        (samples.webm(), "video/webm", ".webm"),
    ],
)
def test_videos_are_recognised_by_their_container(owner, content, mime_type, extension):
    assert upload(client_for(owner), "clip.bin", content).status_code == 200
    asset = MediaAsset.objects.get()
    assert asset.mime_type == mime_type and asset.file.name.endswith(extension)


def test_a_file_that_only_starts_like_an_mp4_is_refused(owner):
    fake = samples.mp4()[:32] + samples.HTML_ATTACK
    response = upload(client_for(owner), "clip.mp4", fake, "video/mp4")
    assert response.status_code == 422 and "damaged" in response.content.decode()
    assert not MediaAsset.objects.exists()


# --------------------------------------------------------------------------- limits


def test_a_decompression_bomb_is_refused_before_decoding(owner):
    bomb = samples.png_bomb(100_000, 100_000)
    assert len(bomb) < 1000
    response = upload(client_for(owner), "bomb.png", bomb, "image/png")
    assert response.status_code == 422
    assert "100000 × 100000 pixels" in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_an_image_over_the_pixel_limit_is_refused_with_its_size(owner, settings):
    settings.CHORUS_MEDIA_MAX_PIXELS = 100
    response = upload(client_for(owner), "big.png", samples.png(20, 10))
    assert response.status_code == 422
    assert "20 × 10 pixels" in response.content.decode()


def test_a_file_over_the_upload_cap_is_dropped_while_streaming(owner, settings):
    settings.CHORUS_UPLOAD_MAX_BYTES = 3_000_000
    huge = samples.png() + b"\x00" * 4_000_000
    response = upload(client_for(owner), "huge.png", huge, "image/png")
    assert response.status_code == 422
    assert "larger than 3 MB" in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_an_image_over_every_networks_size_limit_is_refused(owner):
    from chorus.networks.providers import PROVIDERS

    biggest = max(p.limits.max_image_bytes for p in PROVIDERS.values())  # TikTok's 20 MB
    too_big = samples.png() + b"\x00" * (biggest + 1)
    response = upload(client_for(owner), "big.png", too_big, "image/png")
    assert response.status_code == 422
    limit = f"{biggest / 1_000_000:.1f}".rstrip("0").rstrip(".")
    assert f"the networks take at most {limit} MB" in response.content.decode()
    fits = samples.png() + b"\x00" * (biggest - 200_000)
    assert upload(client_for(owner), "fits.png", fits, "image/png").status_code == 200


def test_the_workspace_quota_holds(owner, settings):
    client = client_for(owner)
    assert upload(client, "one.png", samples.png(40, 40)).status_code == 200
    settings.CHORUS_WORKSPACE_MEDIA_QUOTA = MediaAsset.objects.get().size + 10
    response = upload(client, "two.png", samples.png(40, 40, (1, 2, 3)))
    assert response.status_code == 422 and "media library is full" in response.content.decode()
    assert MediaAsset.objects.count() == 1


# --------------------------------------------------------------------------- serving


def test_media_is_served_with_its_checked_type_and_a_sandbox(owner):
    client = client_for(owner)
    upload(client, "dot.png", samples.png())
    asset = MediaAsset.objects.get()
    response = client.get(f"/media/{asset.pk}/")
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="chorus-media-{asset.pk}.png"'
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


def test_html_stored_before_the_fix_is_only_offered_as_a_download(owner, make_member):
    """The attack: a contributor's HTML, opened by the owner, promoted the contributor."""
    contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    asset = MediaAsset(
        workspace=owner.workspace, mime_type="text/html", size=len(samples.HTML_ATTACK)
    )
    asset.file.save("legacy.html", io.BytesIO(samples.HTML_ATTACK), save=False)
    asset.uploaded_by = contributor.user
    asset.save()
    response = client_for(owner).get(f"/media/{asset.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]


# --------------------------------------------------------------------------- API


def test_api_upload_accepts_images_and_refuses_html_naming_the_field(owner, api, api_token_for):
    from tests.conftest import Upload

    token = api_token_for(owner, ["posts:write"])
    ok = api.post("/media", Upload(file=("a.png", samples.png(), "image/png")), token=token)
    assert ok.status_code == 201, ok.content
    assert ok.json()["mime_type"] == "image/png" and ok.json()["width"] == 2
    bad = api.post("/media", Upload(file=("a.png", samples.HTML_ATTACK, "image/png")), token=token)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "unsupported_type"
    assert "file" in bad.json()["error"]["fields"]
    assert MediaAsset.objects.count() == 1


def test_api_upload_over_the_cap_gets_a_json_refusal(owner, api, api_token_for, settings):
    from tests.conftest import Upload

    settings.CHORUS_UPLOAD_MAX_BYTES = 3_000_000
    token = api_token_for(owner, ["posts:write"])
    huge = samples.png() + b"\x00" * 4_000_000
    response = api.post("/media", Upload(file=("a.png", huge, "image/png")), token=token)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_large"
    assert response.json()["error"]["fields"] == {"file": [response.json()["error"]["message"]]}


def test_a_separate_media_origin_gets_signed_links_for_one_file(owner, settings, make_member):
    client = client_for(owner)
    upload(client, "dot.png", samples.png())
    other = MediaAsset.objects.get()
    upload(client, "dot2.png", samples.png(3, 3))
    asset = MediaAsset.objects.latest("pk")
    settings.CHORUS_MEDIA_URL = "http://media.testserver"
    settings.ALLOWED_HOSTS = ["testserver", "media.testserver"]
    redirect = client.get(f"/media/{asset.pk}/")
    assert redirect.status_code == 302
    location = redirect["Location"]
    assert location.startswith(f"http://media.testserver/media/{asset.pk}/")
    path = location.removeprefix("http://media.testserver")
    signed_out = Client(HTTP_HOST="media.testserver")
    served = signed_out.get(path)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert "sandbox" in served["Content-Security-Policy"]
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert signed_out.get(f"/media/{other.pk}/{token}/").status_code == 404  # another file
    assert signed_out.get(f"/media/{asset.pk}/{token[:-2]}xx/").status_code == 404  # tampered
    stranger = client_for(make_member(Role.OWNER))
    assert stranger.get(f"/media/{asset.pk}/").status_code == 404  # no link for outsiders


@pytest.mark.parametrize("kind", ["WEBP", "AVIF", "PNG"])
def test_other_image_formats_are_accepted_and_rewritten(owner, kind):
    out = io.BytesIO()
    Image.new("RGBA", (5, 4), (0, 128, 0, 200)).save(out, kind)
    response = upload(client_for(owner), "picture", out.getvalue())
    assert response.status_code == 200, response.content
    asset = MediaAsset.objects.get()
    assert asset.mime_type == f"image/{kind.lower()}" and (asset.width, asset.height) == (5, 4)
