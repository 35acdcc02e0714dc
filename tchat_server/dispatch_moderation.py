"""The moderation commands on the wire: each becomes a ModerationService call and,
when it succeeds, an ``ok`` (the events go out from the service)."""

from __future__ import annotations

from shared.codec import encode
from shared.frames import Ok
from shared.frames_moderation import Ban, Kick, LockRoom, Mute, SetRole, SetSlowMode, Unban, Unmute
from tchat_server.dispatch import Handler
from tchat_server.services.moderation import Actor, ModerationService
from tchat_server.session import Session

__all__ = ["moderation_handlers"]


def moderation_handlers(service: ModerationService) -> dict[type, Handler]:
    """``{frame type: handler}`` for ``Dispatcher(extra_handlers=...)``."""

    def actor(session: Session) -> Actor:
        return Actor(session.user_id, session.user_name)

    def ok(session: Session, rid: str | None) -> None:
        session.push(encode(Ok(rid=rid)))

    async def kick(session: Session, frame: Kick) -> None:
        await service.kick(actor(session), frame.room, frame.user, frame.reason)
        ok(session, frame.rid)

    async def ban(session: Session, frame: Ban) -> None:
        await service.ban(actor(session), frame.room, frame.user, frame.duration, frame.reason)
        ok(session, frame.rid)

    async def unban(session: Session, frame: Unban) -> None:
        await service.unban(actor(session), frame.room, frame.user)
        ok(session, frame.rid)

    async def mute(session: Session, frame: Mute) -> None:
        await service.mute(actor(session), frame.room, frame.user, frame.duration, frame.reason)
        ok(session, frame.rid)

    async def unmute(session: Session, frame: Unmute) -> None:
        await service.unmute(actor(session), frame.room, frame.user)
        ok(session, frame.rid)

    async def set_role(session: Session, frame: SetRole) -> None:
        await service.set_role(actor(session), frame.room, frame.user, frame.role)
        ok(session, frame.rid)

    async def slow_mode(session: Session, frame: SetSlowMode) -> None:
        await service.set_slow_mode(actor(session), frame.room, frame.seconds)
        ok(session, frame.rid)

    async def lock(session: Session, frame: LockRoom) -> None:
        await service.lock(actor(session), frame.room, frame.locked)
        ok(session, frame.rid)

    return {
        Kick: kick,
        Ban: ban,
        Unban: unban,
        Mute: mute,
        Unmute: unmute,
        SetRole: set_role,
        SetSlowMode: slow_mode,
        LockRoom: lock,
    }
