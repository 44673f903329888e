"""HTTP routers of the notifications service."""
