"""An imported producer has no key: the operator invites it with a one-time code."""

from datetime import timedelta

import pytest

from fabnet.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from fabnet.domain.states import Role
from fabnet.services import commands as cmd
from fabnet.services.access import authenticate
from tests.conftest import ALICE, OPERATOR, World


def test_a_code_gives_the_producer_its_key_once(world: World):
    pid = world.producer("lab", 52.5, 13.4)
    invitation = world.bus.handle(cmd.InviteProducer(OPERATOR, pid))
    assert invitation.code.startswith("fen_") and pid in invitation.code
    done = world.bus.handle(cmd.Enrol(invitation.code))
    assert done.producer_id == pid
    principal = authenticate(done.key.secret, uow=world.uow(), now=world.clock.now())
    assert (principal.role, principal.producer_id) == (Role.PRODUCER, pid)
    with pytest.raises(Unauthorized):
        world.bus.handle(cmd.Enrol(invitation.code))  # spent


def test_a_new_code_replaces_the_old_and_an_expired_one_fails(world: World):
    pid = world.producer("lab", 52.5, 13.4)
    first = world.bus.handle(cmd.InviteProducer(OPERATOR, pid, ttl_s=60))
    second = world.bus.handle(cmd.InviteProducer(OPERATOR, pid, ttl_s=60))
    with pytest.raises(Unauthorized):
        world.bus.handle(cmd.Enrol(first.code))
    world.clock.set(world.clock.now() + timedelta(seconds=61))
    with pytest.raises(Unauthorized):
        world.bus.handle(cmd.Enrol(second.code))


@pytest.mark.parametrize(
    "code", ["", "fen_", "fen_prd_x.y", "key_abc", "fen_" + "x" * 300, "prd_1.secret"]
)
def test_wrong_codes_all_get_the_same_answer(world: World, code):
    world.producer("lab", 52.5, 13.4)
    with pytest.raises(Unauthorized, match="unknown, used or expired"):
        world.bus.handle(cmd.Enrol(code))


def test_a_guessed_secret_for_a_real_producer_fails(world: World):
    pid = world.producer("lab", 52.5, 13.4)
    world.bus.handle(cmd.InviteProducer(OPERATOR, pid))
    with pytest.raises(Unauthorized):
        world.bus.handle(cmd.Enrol(f"fen_{pid}.guess"))


def test_only_an_operator_invites_and_only_known_producers(world: World):
    pid = world.producer("lab", 52.5, 13.4)
    with pytest.raises(Forbidden):
        world.bus.handle(cmd.InviteProducer(ALICE, pid))
    with pytest.raises(NotFound):
        world.bus.handle(cmd.InviteProducer(OPERATOR, "prd_nobody"))
    with pytest.raises(InvalidInput, match="ttl_s"):
        world.bus.handle(cmd.InviteProducer(OPERATOR, pid, ttl_s=0))


def test_reimporting_the_record_keeps_a_pending_invitation(world: World):
    from tests.conftest import facility

    spec = facility("Lab", 52.5, 13.4, ref="lab-1")
    (pid,) = world.bus.handle(cmd.ImportFacilities(OPERATOR, (spec,))).created
    invitation = world.bus.handle(cmd.InviteProducer(OPERATOR, pid))
    again = world.bus.handle(cmd.ImportFacilities(OPERATOR, (spec,)))
    assert again.unchanged == [pid]
    assert world.bus.handle(cmd.Enrol(invitation.code)).producer_id == pid
