"""Notifications consumes user.registered through the runner and serves each user their own."""

import uuid

from souk_common.events import CloudEvent, stream_key
from souk_common.testing import event_of
from souk_contracts.events import UserRegisteredV1

from .conftest import wait_for_items


def registered(user_id: uuid.UUID, name: str = "Ada") -> CloudEvent:
    payload = UserRegisteredV1(
        user_id=user_id, email="ada@example.com", display_name=name, role="buyer"
    )
    return event_of(payload, "auth")


async def test_welcome_notification_is_created_once_and_shown_only_to_its_user(
    service, redis_client, redis_prefix, token_issuer
):
    user, stranger = uuid.uuid4(), uuid.uuid4()
    event = registered(user)
    stream = stream_key(redis_prefix, "auth")
    await redis_client.xadd(stream, event.to_fields())
    items = await wait_for_items(service, token_issuer.headers(user), 1)
    assert [item["kind"] for item in items] == ["welcome"]
    assert "Ada" in items[0]["body"]

    # The same event published again (a relay retry) changes nothing.
    await redis_client.xadd(stream, event.to_fields())
    await redis_client.xadd(stream, registered(stranger, "Bob").to_fields())
    await wait_for_items(service, token_issuer.headers(stranger), 1)
    assert len(await wait_for_items(service, token_issuer.headers(user), 1)) == 1

    others = await service.get("/api/notifications", headers=token_issuer.headers(stranger))
    assert [item["body"] for item in others.json()["items"]] == [
        "Hello Bob, your buyer account is ready."
    ]
    # Marking someone else's notification is a 404, not a 403: no existence leak.
    response = await service.post(
        f"/api/notifications/{items[0]['id']}/read", headers=token_issuer.headers(stranger)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = await service.post(
        f"/api/notifications/{items[0]['id']}/read", headers=token_issuer.headers(user)
    )
    assert response.status_code == 200
    assert response.json()["read_at"] is not None


async def test_listing_requires_a_token_and_pages_with_a_cursor(
    service, redis_client, redis_prefix, token_issuer
):
    assert (await service.get("/api/notifications")).status_code == 401
    user = uuid.uuid4()
    stream = stream_key(redis_prefix, "auth")
    for _ in range(5):
        # Distinct events for the same user (e.g. re-registrations in a test world).
        await redis_client.xadd(stream, registered(user).to_fields())
    items = await wait_for_items(service, token_issuer.headers(user), 5)
    assert len(items) == 5
    seen = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await service.get(
                "/api/notifications", params=params, headers=token_issuer.headers(user)
            )
        ).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(item["id"] for item in items)
    bad = await service.get(
        "/api/notifications", params={"cursor": "@@@"}, headers=token_issuer.headers(user)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.cursor"
