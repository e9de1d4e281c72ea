import pytest

from fabnet.domain.errors import BadMesh, InvalidInput, PayloadTooLarge, Unauthorized
from fabnet.domain.states import Role
from fabnet.services import commands as cmd
from fabnet.services.access import authenticate
from fabnet.sim.parts import box_stl
from tests.conftest import ALICE, BOB, OPERATOR, World


def register(world: World, data: bytes, **kw):
    fields = {
        "filename": "part.stl",
        "name": "part",
        "process": "fdm",
        "materials": ("PLA",),
        "print_time_s": 600.0,
    } | kw
    return world.bus.handle(cmd.RegisterDesign(actor=ALICE, data=data, **fields))


def test_a_design_is_stored_once_and_each_party_gets_its_own_record(world: World):
    data = box_stl(10, 20, 30)
    first = register(world, data)
    again = register(world, data, name="other name")
    assert first == again and first.startswith("dsg_")  # same owner, same bytes: one record
    theirs = world.bus.handle(
        cmd.RegisterDesign(BOB, "copy.stl", data, "bob's", "fdm", ("PETG",), 900.0)
    )
    assert theirs != first
    with world.uow() as uow:
        mine, bobs = uow.designs.get(first), uow.designs.get(theirs)
        assert (mine.bbox.x_mm, mine.bbox.y_mm, mine.bbox.z_mm) == (10, 20, 30)
        assert mine.triangles == 12 and mine.name == "part" and mine.owner_id == ALICE.id
        assert (bobs.name, bobs.materials, bobs.owner_id) == ("bob's", ("PETG",), BOB.id)
        assert mine.content_hash == bobs.content_hash  # one stored file
        assert uow.designs.count() == 2
    assert world.blobs.get(mine.content_hash) == data and len(world.blobs.blobs) == 1


@pytest.mark.parametrize(
    ("data", "kw", "field"),
    [
        (b"", {}, "file"),
        (box_stl(1, 1, 1)[:-7], {}, "file"),
        (box_stl(1, 1, 1), {"materials": ("UNOBTAINIUM",)}, "materials[0]"),
        (box_stl(1, 1, 1), {"process": "weaving"}, "process"),
        (box_stl(1, 1, 1), {"print_time_s": -1.0}, "print_time_s"),
        (box_stl(1, 1, 1), {"filename": "part.exe"}, "file"),
    ],
)
def test_bad_designs_are_refused_and_nothing_is_stored(world: World, data, kw, field):
    with pytest.raises(InvalidInput) as err:
        register(world, data, **kw)
    assert err.value.field == field
    assert not world.blobs.blobs
    with world.uow() as uow:
        assert uow.designs.count() == 0


def test_a_design_over_the_size_limit_is_refused(world: World):
    world.bus.dependencies["policy"] = world.bus.dependencies["policy"].__class__(
        max_design_bytes=100
    )
    with pytest.raises(PayloadTooLarge):
        register(world, box_stl(1, 1, 1))


def test_keys_are_stored_hashed_and_authenticate(world: World):
    key = world.bus.handle(cmd.CreateApiKey("alice", Role.CONSUMER))
    with world.uow() as uow:
        stored = uow.api_keys.get(key.key_id)
        assert key.secret not in stored.key_hash and len(stored.key_hash) == 64
    principal = authenticate(key.secret, uow=world.uow())
    assert principal.role is Role.CONSUMER and principal.id == key.principal_id
    with pytest.raises(Unauthorized):
        authenticate(key.secret + "x", uow=world.uow())
    with pytest.raises(Unauthorized):
        authenticate(None, uow=world.uow())


def test_a_producer_key_must_name_an_existing_producer(world: World):
    with pytest.raises(InvalidInput, match="producer_id"):
        world.bus.handle(cmd.CreateApiKey("p", Role.PRODUCER, producer_id="prd_nope"))
    pid = world.producer("a", 1, 1)
    key = world.bus.handle(cmd.CreateApiKey("p", Role.PRODUCER, producer_id=pid))
    assert authenticate(key.secret, uow=world.uow()).producer_id == pid
    assert OPERATOR.is_operator


def test_stl_reader_rejects_non_finite_vertices():
    from fabnet.adapters.geometry import TrimeshAnalyzer
    from fabnet.sim.parts import binary_stl

    nan = float("nan")
    with pytest.raises(BadMesh, match="NaN"):
        TrimeshAnalyzer(wall_samples=2000).analyse(
            "x.stl", binary_stl([((0, 0, 0), (1, 0, 0), (nan, 1, 0))])
        )
