from shared.frames import Ack, MessagePosted, Send
from tests.conftest import Running


async def test_two_users_talk(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    assert alice.welcome is not None
    general = next(r for r in alice.welcome.rooms if r.name == "general")
    await alice.send(Send(client_msg_id="m1", body="hello **bob**", room=general.id, rid="x"))
    ack = await alice.expect(Ack)
    assert ack.seq == 1 and ack.rid == "x"
    posted = await bob.expect(MessagePosted)
    assert posted.message.body == "hello **bob**" and posted.message.author == "alice"
