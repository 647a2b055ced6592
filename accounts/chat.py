"""Tokens for the chat server, signed with CHAT_JWT_SECRET (falls back to JWT_SECRET)."""

from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone


def issue_chat_token(user) -> tuple[str, object]:
    now = timezone.now()
    expires_at = now + timedelta(minutes=settings.CHAT_TOKEN_TTL_MINUTES)
    claims = {
        "sub": str(user.pk),
        "username": user.username,
        "role": user.role,
        "iss": settings.JWT_ISSUER,
        "aud": "veza-chat",
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, settings.CHAT_JWT_SECRET, algorithm="HS256"), expires_at
