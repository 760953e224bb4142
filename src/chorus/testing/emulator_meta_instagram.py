"""Instagram's content publishing in the emulator's Graph API: containers (with real
fetches of `image_url` / `video_url`), their status, `media_publish`, the moving 24-hour
quota and the account's media (mixed into chorus.testing.emulator_meta.MetaGraph)."""

from __future__ import annotations

from typing import Any

import httpx

from chorus.testing.emulator_meta_wire import GraphError, graph_time, now_s, paged

QUOTA_WINDOW_S = 24 * 3600.0


class InstagramRoutes:
    """Routes of `/{ig-user-id}/media`, `/media_publish`, `/content_publishing_limit`."""

    containers: dict[str, dict[str, Any]]
    ig: dict[str, dict[str, Any]]
    nodes: dict[str, dict[str, Any]]
    quota_total: int
    video_processing_checks: int

    async def _fetch(self, url: str, *, video: bool) -> str:
        """What Instagram's fetcher makes of a media URL: "" when usable, else its error."""
        try:
            async with httpx.AsyncClient(timeout=20) as client:
                response = await client.get(url)
        except httpx.HTTPError:
            return "unreachable"
        kind = response.headers.get("content-type", "").split(";")[0]
        if response.status_code != 200:
            return "unreachable"
        if video and not kind.startswith("video/") or not video and kind != "image/jpeg":
            return "type"
        return ""

    async def _create_container(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/media: image_url, media_type=REELS|VIDEO|CAROUSEL, is_carousel_item,
        children, caption (2,200 characters, 30 hashtags, 20 mentions)."""
        self._owned(grant, node)
        if node not in self.ig:
            raise GraphError(400, 100, "(#100) Unsupported post request.", 33)
        kind = str(params.get("media_type") or "IMAGE")
        caption = str(params.get("caption") or "")
        if len(caption.encode("utf-16-le")) // 2 > 2200 or caption.count("#") > 30:
            raise GraphError(
                400, 100, "(#100) The caption is too long or has too many hashtags.", 2207028
            )
        box: dict[str, Any] = {
            "ig": node,
            "kind": kind,
            "caption": caption,
            "checks": 0,
            "created": now_s(),
            "published": False,
            "error": "",
            "carousel_item": params.get("is_carousel_item") == "true",
        }
        if kind == "CAROUSEL":
            children = [c for c in str(params.get("children") or "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(
                self.containers.get(c, {}).get("checks", -1) < 0 for c in children
            ):
                raise GraphError(400, 100, "(#100) A carousel takes 2 to 10 item containers.")
            if any(
                self._container_status(self.containers[c])["status_code"] != "FINISHED"
                for c in children
            ):
                raise GraphError(400, 9007, "Media is not ready to be published.", 2207027)
            box["children"] = children
        elif kind in ("REELS", "VIDEO"):
            box["error"] = await self._fetch(str(params.get("video_url") or ""), video=True)
            box["pending"] = self.video_processing_checks
        else:
            problem = await self._fetch(str(params.get("image_url") or ""), video=False)
            if problem:
                raise GraphError(
                    400,
                    9004,
                    "Only photo or video can be accepted as media type.",
                    2207052,
                    error_user_title="Media download has failed.",
                    error_user_msg="The media could not be fetched from this URI"
                    if problem == "unreachable"
                    else "The image is not a JPEG.",
                )
        container_id = self._id()
        self.containers[container_id] = box
        return 200, {"id": container_id}

    def _container_status(self, box: dict[str, Any]) -> dict[str, str]:
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-container: status_code EXPIRED, ERROR, FINISHED, IN_PROGRESS or PUBLISHED."""
        if box["published"]:
            return {"status_code": "PUBLISHED", "status": "Published"}
        if now_s() - box["created"] > 24 * 3600:
            return {"status_code": "EXPIRED", "status": "Expired"}
        if box["error"]:
            return {"status_code": "ERROR", "status": "Error: Media download has failed."}
        if box.get("pending", 0) > 0:
            box["pending"] -= 1
            return {"status_code": "IN_PROGRESS", "status": "In Progress"}
        return {"status_code": "FINISHED", "status": "Finished"}

    def _used_quota(self, ig_id: str) -> int:
        now = now_s()
        return sum(1 for t in self.ig[ig_id]["published"] if t > now - QUOTA_WINDOW_S)

    async def _quota(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/content_publishing_limit"""
        self._owned(grant, node)
        return 200, {
            "data": [
                {
                    "quota_usage": self._used_quota(node),
                    "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                }
            ]
        }

    async def _media_publish(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/media_publish (creation_id; error 9 / 2207042 once the quota is spent)."""
        self._owned(grant, node)
        box = self.containers.get(str(params.get("creation_id") or ""))
        if box is None or box["ig"] != node or box["carousel_item"]:
            raise GraphError(400, 100, "(#100) Invalid creation_id.", 33)
        if self._used_quota(node) >= self.quota_total:
            raise GraphError(
                400,
                9,
                "Application request limit reached",
                2207042,
                error_user_msg="You reached maximum number of posts that is "
                "allowed to be published by Content Publishing API.",
            )
        if box["published"] or self._container_status(box)["status_code"] != "FINISHED":
            raise GraphError(400, 9007, "Media ID is not available", 2207027)
        media_id = self._id()
        box["published"] = True
        media_type = {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(box["kind"], box["kind"])
        self._store(
            "ig_media",
            media_id,
            node,
            caption=box["caption"],
            media_type=media_type,
            timestamp=graph_time(now_s()),
            permalink=f"https://www.instagram.com/p/{media_id}/",
        )
        self.ig[node]["published"].append(now_s())
        self._event(node, media_id, box["caption"])
        return 200, {"id": media_id}

    async def _ig_media(self, grant, node, edge, params):
        """developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        ig-user/media (GET: newest first)."""
        self._owned(grant, node)
        media = [m for m in self.nodes.values() if m["_kind"] == "ig_media" and m["_owner"] == node]
        media.sort(key=lambda m: m["_at"], reverse=True)
        fields = str(params.get("fields") or "id")
        return 200, paged([self._view(m["id"], fields) for m in media], params)
