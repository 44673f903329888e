"""``GET /api/payments``: the buyer sees their order's payment, a stranger an empty list
(exactly as for an order that does not exist), an admin everyone's."""

from __future__ import annotations

import uuid


async def test_owner_stranger_and_admin(payments, token_issuer):
    order, buyer, stranger, admin = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await payments.reserve(order, buyer, total="30.00")
    await payments.reserve(uuid.uuid4(), stranger, total="5.00")
    await payments.events(2)
    client = payments.client
    params = {"order_id": str(order)}

    own = await client.get("/api/payments", params=params, headers=token_issuer.headers(buyer))
    assert own.status_code == 200
    (payment,) = own.json()
    assert payment["order_id"] == str(order)
    assert payment["status"] == "captured"
    assert payment["amount"] == "30.00"
    assert payment["method_type"] == "pm_card"  # the token's type only, never the token
    assert "pm_card_visa" not in own.text

    theirs = await client.get(
        "/api/payments", params=params, headers=token_issuer.headers(stranger)
    )
    assert theirs.status_code == 200
    assert theirs.json() == []
    missing = await client.get(
        "/api/payments",
        params={"order_id": str(uuid.uuid4())},
        headers=token_issuer.headers(stranger),
    )
    assert missing.json() == theirs.json()  # no way to tell "not yours" from "no such order"

    admin_view = await client.get(
        "/api/payments", params=params, headers=token_issuer.headers(admin, "admin")
    )
    assert [p["order_id"] for p in admin_view.json()] == [str(order)]
    everything = await client.get("/api/payments", headers=token_issuer.headers(admin, "admin"))
    assert len(everything.json()) == 2
    mine = await client.get("/api/payments", headers=token_issuer.headers(buyer))
    assert [p["order_id"] for p in mine.json()] == [str(order)]


async def test_requires_a_token_and_a_valid_order_id(payments, token_issuer):
    assert (await payments.client.get("/api/payments")).status_code == 401
    bad = await payments.client.get(
        "/api/payments", params={"order_id": "nope"}, headers=token_issuer.headers(uuid.uuid4())
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.order_id"
