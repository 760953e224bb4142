"""The versioned `/rest/` routes of the emulated LinkedIn API (see `emulator_linkedin`):
posts, image and document uploads, comments, social metadata, organization roles, lookups,
share statistics and follower counts. Each handler cites its learn.microsoft.com page."""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from chorus.testing.emulator_http import _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
DOCS = "https://learn.microsoft.com/linkedin/marketing/community-management"
_COMMENTS = re.compile(r"^rest/socialActions/(.+?)/comments(?:/([^/]+))?$")
_WRITE = {"person": "w_member_social", "organization": "w_organization_social"}
_READ = {"person": "r_member_social", "organization": "r_organization_social"}


class LinkedInError(Exception):
    """shared/api-guide/concepts/error-handling: `{status, serviceErrorCode, code, message}`."""

    def __init__(self, status: int, message: str, code: str = "", service_code: int = 0):
        super().__init__(message)
        payload: dict[str, Any] = {"status": status, "message": message}
        if code:
            payload |= {"code": code, "serviceErrorCode": service_code}
        self.reply: Reply = (status, payload, [])


def kind_of(urn: str) -> str:
    return urn.split(":")[2] if urn.count(":") >= 3 else ""


def urn_list(value: str) -> list[str]:
    """A decoded Rest.li `List(a,b)` (URNs hold no commas at top level here)."""
    inner = value.removeprefix("List(").removesuffix(")")
    return [item for item in inner.split(",") if item]


def ms(moment: float) -> int:
    return int(moment * 1000)


class LinkedInRest:
    """Mixed into `LinkedInApi`, which holds the state these routes read and change."""

    members: dict[str, dict[str, Any]]
    organizations: dict[str, dict[str, Any]]
    posts: dict[str, dict[str, Any]]
    comments: dict[str, dict[str, Any]]
    uploads: dict[str, dict[str, Any]]
    posted: dict[str, list[float]]
    daily_posts: int
    lose_answers: int
    emulator: Any
    _ids: Any

    @staticmethod
    def _need(grant: dict[str, Any], scope: str, what: str) -> None:
        if scope not in grant["scope"].split():
            raise LinkedInError(
                403, f"Not enough permissions to access: {what}", "ACCESS_DENIED", 100
            )

    def _may_act_as(self, grant: dict[str, Any], author: str, *, write: bool, what: str) -> None:
        """The member themselves, or an organization where they hold a role."""
        kind = kind_of(author)
        scopes = _WRITE if write else _READ
        if kind not in scopes:
            raise LinkedInError(422, f"Invalid author {author}", "INVALID_VALUE", 100)
        self._need(grant, scopes[kind], what)
        member = self.members[grant["sub"]]
        if kind == "person" and author != f"urn:li:person:{member['sub']}":
            raise LinkedInError(
                403, f"Not enough permissions to access: {what}", "ACCESS_DENIED", 100
            )
        if kind == "organization" and author not in member["roles"]:
            raise LinkedInError(
                403,
                f"Member is not an administrator of {author}",
                "ORGANIZATION_PERMISSION_DENIED",
                100,
            )

    def _rest(self, request: _Request, path: str, grant: dict[str, Any]) -> Reply:
        method, query = request.method, {k: v[0] for k, v in request.query.items()}
        resource = path.removeprefix("rest/")
        comments = _COMMENTS.match(path)
        if comments:
            return self._comments(request, grant, comments.group(1), comments.group(2), query)
        if resource == "posts" and method == "POST":
            return self._create_post(grant, request.json())
        if resource == "posts" and method == "GET" and query.get("q") == "author":
            return self._find_posts(grant, query)
        if resource.startswith("posts/") and method in ("GET", "DELETE"):
            return self._post(grant, method, resource.removeprefix("posts/"))
        if resource in ("images", "documents") and query.get("action") == "initializeUpload":
            return self._initialize_upload(request, grant, resource[:-1])
        if resource == "socialMetadata" and method == "GET":
            return self._social_metadata(grant, urn_list(query.get("ids", "")))
        if resource == "organizationAcls" and query.get("q") == "roleAssignee":
            return self._acls(grant)
        if resource.startswith("organizations/") and method == "GET":
            return self._organization(grant, resource.removeprefix("organizations/"))
        if resource == "organizationalEntityShareStatistics":
            return self._share_statistics(grant, query)
        if resource.startswith("networkSizes/"):
            return self._network_size(grant, resource.removeprefix("networkSizes/"), query)
        if resource == "memberFollowersCount" and query.get("q") == "me":
            self._need(grant, "r_member_profileAnalytics", "memberFollowersCount.FINDER-me")
            followers = self.members[grant["sub"]]["followers"]
            return 200, {"elements": [{"memberFollowersCount": followers}], "paging": {}}, []
        raise LinkedInError(404, f"No resource found for {method} /{path}")

    # ----------------------------------------------------------------- posts

    def _create_post(self, grant: dict[str, Any], body: dict[str, Any]) -> Reply:
        """shares/posts-api "Create Posts": 201, the URN in `x-restli-id`; a repeat of the
        author's previous commentary is a duplicate (422)."""
        author = str(body.get("author") or "")
        self._may_act_as(grant, author, write=True, what="partnerApiPostsExternal.CREATE")
        for name in ("commentary", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                raise LinkedInError(422, f"/{name} :: field is required but not found", "", 0)
        if len(str(body["commentary"])) > 3000 * 2:  # escapes take room; see the provider
            raise LinkedInError(422, "/commentary :: length exceeds 3000")
        self._check_content(author, body.get("content") or {})
        now = time.time()
        window = [t for t in self.posted.get(author, []) if t > now - 86400]
        if len(window) >= self.daily_posts:
            raise LinkedInError(
                429,
                "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
            )
        mine = [p for p in self.posts.values() if p["author"] == author and not p.get("deleted")]
        if mine and mine[-1]["commentary"] == body["commentary"] and body["commentary"]:
            raise LinkedInError(
                422, f"Content is a duplicate of {mine[-1]['id']}", "DUPLICATE_POST", 0
            )
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts[urn] = {
            "id": urn,
            "author": author,
            "commentary": str(body["commentary"]),
            "visibility": body["visibility"],
            "lifecycleState": body["lifecycleState"],
            "createdAt": ms(now),
            "publishedAt": ms(now),
            "lastModifiedAt": ms(now),
            **({"content": body["content"]} if body.get("content") else {}),
        }
        self.posted[author] = [*window, now]
        self.emulator._published("linkedin", author, "", urn, now, str(body["commentary"]))
        if self.lose_answers > 0:
            self.lose_answers -= 1
            raise LinkedInError(504, "Gateway Timeout")
        return 201, None, [("x-restli-id", urn)]

    def _check_content(self, author: str, content: dict[str, Any]) -> None:
        """posts-api content: one `media` (image or document, owned by the author, uploaded),
        `multiImage` of 2 to 20 images (shares/multiimage-post-api), or an `article`."""
        ids = []
        if "media" in content:
            ids = [str((content["media"] or {}).get("id") or "")]
            if ids[0].startswith("urn:li:document:") and not content["media"].get("title"):
                raise LinkedInError(422, "/content/media/title :: a document needs a title")
        elif "multiImage" in content:
            ids = [str(i.get("id") or "") for i in content["multiImage"].get("images") or []]
            if not 2 <= len(ids) <= 20 or any(not i.startswith("urn:li:image:") for i in ids):
                raise LinkedInError(
                    422, "/content/multiImage/images :: 2 to 20 images are required"
                )
        elif "article" in content and not (content["article"] or {}).get("source"):
            raise LinkedInError(422, "/content/article/source :: field is required")
        for urn in ids:
            upload = self.uploads.get(urn)
            if upload is None or upload["owner"] != author:
                raise LinkedInError(422, f"Invalid media id {urn}", "INVALID_MEDIA", 0)
            if not upload["size"]:
                raise LinkedInError(422, f"Media {urn} has not been uploaded", "MEDIA_NOT_READY", 0)

    def _find_posts(self, grant: dict[str, Any], query: dict[str, str]) -> Reply:
        """posts-api "Find Posts by Authors": newest first, `count` at most 100."""
        author = query.get("author", "")
        self._may_act_as(grant, author, write=False, what="partnerApiPostsExternal.FINDER-author")
        count = min(int(query.get("count") or 10), 100)
        mine = [p for p in self.posts.values() if p["author"] == author and not p.get("deleted")]
        mine.sort(key=lambda p: p["lastModifiedAt"], reverse=True)
        return 200, {"elements": mine[:count], "paging": {"start": 0, "count": count}}, []

    def _post(self, grant: dict[str, Any], method: str, urn: str) -> Reply:
        """posts-api "Retrieve Posts" and "Delete Posts" (204, also when already gone)."""
        post = self.posts.get(urn)
        if method == "DELETE":
            if post is None or post.get("deleted"):
                return 204, None, []
            self._may_act_as(
                grant, post["author"], write=True, what="partnerApiPostsExternal.DELETE"
            )
            post["deleted"] = True
            return 204, None, []
        if post is None or post.get("deleted"):
            raise LinkedInError(404, f"Post {urn} not found", "NOT_FOUND", 0)
        return 200, post, []

    # ----------------------------------------------------------------- uploads

    def _initialize_upload(self, request: _Request, grant: dict[str, Any], kind: str) -> Reply:
        """shares/images-api and shares/documents-api "Initialize Upload": an upload URL
        and the URN, usable once the bytes are PUT."""
        owner = str((request.json().get("initializeUploadRequest") or {}).get("owner") or "")
        self._may_act_as(grant, owner, write=True, what=f"{kind}s.ACTION-initializeUpload")
        upload_id = f"C4{secrets.token_hex(8).upper()}"
        urn = f"urn:li:{kind}:{upload_id}"
        self.uploads[urn] = {"owner": owner, "size": 0, "kind": kind}
        url = f"{request.base}/linkedin/upload/{kind}/{quote(urn, safe='')}"
        value = {"uploadUrlExpiresAt": ms(time.time() + 86400), "uploadUrl": url, kind: urn}
        return 200, {"value": value}, []

    def _upload(self, rest: str, data: bytes) -> Reply:
        """images-api "Upload the Image": PUT the bytes to the upload URL, 201."""
        _kind, _, urn = rest.partition("/")
        upload = self.uploads.get(urn)
        if upload is None or not data:
            raise LinkedInError(400, "Invalid upload")
        upload["size"] = len(data)
        return 201, None, []

    # ----------------------------------------------------------------- comments

    def _comment(self, target: str, actor: str, text: str, parent: Any = None) -> dict[str, Any]:
        post_urn = (
            target if not target.startswith("urn:li:comment:") else self.comments[target]["object"]
        )
        comment_id = str(next(self._ids) % 10**15)
        urn = f"urn:li:comment:({post_urn},{comment_id})"
        now = ms(time.time())
        comment = {
            "id": comment_id,
            "commentUrn": urn,
            "$URN": urn,
            "actor": actor,
            "object": post_urn,
            "message": {"text": text},
            "created": {"actor": actor, "time": now},
            "lastModified": {"actor": actor, "time": now},
        }
        if parent:
            comment["parentComment"] = str(parent)
        self.comments[urn] = comment
        return comment

    def _comments(
        self,
        request: _Request,
        grant: dict[str, Any],
        target: str,
        comment_id: str | None,
        query: dict[str, str],
    ) -> Reply:
        """shares/comments-api: retrieve (newest first), create (201, the comment in the body
        and its id in `x-restli-id`), delete (`?actor=`, 204)."""
        post_urn = target
        if target.startswith("urn:li:comment:"):
            if target not in self.comments:
                raise LinkedInError(404, f"Comment {target} not found", "NOT_FOUND", 0)
            post_urn = self.comments[target]["object"]
        post = self.posts.get(post_urn)
        if post is None or post.get("deleted"):
            raise LinkedInError(404, f"Post {post_urn} not found", "NOT_FOUND", 0)
        if request.method == "GET" and comment_id is None:
            reader = post["author"]
            self._may_act_as(grant, reader, write=False, what="comments.GET_ALL")
            found = [
                c
                for c in self.comments.values()
                if c["object"] == post_urn and not c.get("deleted")
            ]
            found.sort(key=lambda c: c["created"]["time"], reverse=True)
            return 200, {"elements": found[: int(query.get("count") or 10)], "paging": {}}, []
        if request.method == "POST" and comment_id is None:
            body = request.json()
            actor = str(body.get("actor") or "")
            self._may_act_as(grant, actor, write=True, what="comments.CREATE")
            if body.get("object") != post_urn:
                raise LinkedInError(422, "/object :: does not match the path", "INVALID_VALUE", 0)
            parent = body.get("parentComment")
            if target.startswith("urn:li:comment:") and parent != target:
                raise LinkedInError(
                    422, "/parentComment :: does not match the path", "INVALID_VALUE", 0
                )
            text = str((body.get("message") or {}).get("text") or "")
            comment = self._comment(target, actor, text, parent)
            return 201, comment, [("x-restli-id", comment["id"])]
        if request.method == "DELETE" and comment_id is not None:
            urn = f"urn:li:comment:({post_urn},{comment_id})"
            comment = self.comments.get(urn)
            if comment is None or comment.get("deleted"):
                return 204, None, []
            actor = query.get("actor", "")
            self._may_act_as(grant, actor, write=True, what="comments.DELETE")
            if comment["actor"] != actor:
                raise LinkedInError(
                    403, "Only the author may delete a comment", "ACCESS_DENIED", 100
                )
            comment["deleted"] = True
            return 204, None, []
        raise LinkedInError(405, "Method not allowed")

    # ----------------------------------------------------------------- counts

    def _social_metadata(self, grant: dict[str, Any], urns: list[str]) -> Reply:
        """shares/social-metadata-api "Batch Get": reactions by type and comment counts."""
        results = {}
        for urn in urns:
            post = self.posts.get(urn)
            if post is None or post.get("deleted"):
                continue
            self._may_act_as(grant, post["author"], write=False, what="socialMetadata.BATCH_GET")
            count = sum(
                1 for c in self.comments.values() if c["object"] == urn and not c.get("deleted")
            )
            reactions = post.get("reactions") or {}
            results[urn] = {
                "entity": urn,
                "reactionSummaries": {
                    k: {"reactionType": k, "count": v} for k, v in reactions.items()
                },
                "commentSummary": {"count": count, "topLevelCount": count},
                "commentsState": "OPEN",
            }
        return 200, {"results": results, "statuses": {}, "errors": {}}, []

    def _acls(self, grant: dict[str, Any]) -> Reply:
        """organizations/organization-access-control-by-role, `q=roleAssignee`."""
        if not {"rw_organization_admin", "r_organization_admin"} & set(grant["scope"].split()):
            raise LinkedInError(
                403,
                "Not enough permissions to access: organizationAcls.FINDER-roleAssignee",
                "ACCESS_DENIED",
                100,
            )
        member = self.members[grant["sub"]]
        person = f"urn:li:person:{member['sub']}"
        elements = [
            {"roleAssignee": person, "state": "APPROVED", "role": role, "organization": org}
            for org, role in member["roles"].items()
        ]
        return (
            200,
            {"elements": elements, "paging": {"start": 0, "count": 100, "total": len(elements)}},
            [],
        )

    def _organization(self, grant: dict[str, Any], org_id: str) -> Reply:
        """organizations/organization-lookup-api: an administrator reads the whole page."""
        org = self.organizations.get(org_id)
        if org is None:
            raise LinkedInError(404, f"Organization {org_id} not found", "NOT_FOUND", 0)
        self._need(grant, "rw_organization_admin", "organizations.GET")
        return 200, {k: v for k, v in org.items() if k != "followers"}, []

    def _share_statistics(self, grant: dict[str, Any], query: dict[str, str]) -> Reply:
        """organizations/share-statistics, `q=organizationalEntity` with `shares` and
        `ugcPosts` lists: lifetime totals per post."""
        self._need(grant, "rw_organization_admin", "organizationalEntityShareStatistics.FINDER")
        org = query.get("organizationalEntity", "")
        if org not in self.members[grant["sub"]]["roles"]:
            raise LinkedInError(
                403, f"Member is not an administrator of {org}", "ACCESS_DENIED", 100
            )
        elements = []
        for key, kind in (("shares", "share"), ("ugcPosts", "ugcPost")):
            for urn in urn_list(query.get(key, "")):
                post = self.posts.get(urn)
                if post is None or post["author"] != org:
                    continue
                stats = {
                    "impressionCount": 0,
                    "uniqueImpressionsCount": 0,
                    "clickCount": 0,
                    "likeCount": 0,
                    "commentCount": 0,
                    "shareCount": 0,
                    "engagement": 0.0,
                }
                stats |= post.get("statistics") or {}
                elements.append(
                    {kind: urn, "organizationalEntity": org, "totalShareStatistics": stats}
                )
        return 200, {"elements": elements, "paging": {}}, []

    def _network_size(self, grant: dict[str, Any], urn: str, query: dict[str, str]) -> Reply:
        """organizations/organization-lookup-api "Retrieve Organization Follower Count"."""
        self._need(grant, "rw_organization_admin", "networkSizes.GET")
        org = self.organizations.get(urn.rsplit(":", 1)[-1])
        if org is None or query.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
            raise LinkedInError(400, "Invalid edgeType or organization")
        return 200, {"firstDegreeSize": org["followers"]}, []
