from jibo_cloud.reservations import Reservations


def test_holds_add_up_and_release_however_the_block_ends() -> None:
    r = Reservations()
    with r.hold("a", 10) as first:
        with r.hold("a", 5) as second:
            assert r.held("a") == 15
            assert r.others(second) == 10
            r.resize(second, 20)
            assert r.held("a") == 30
        assert r.held("a") == 10
        assert r.others(first) == 0
        try:
            with r.hold("a", 7):
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass
        assert r.held("a") == 10
    assert r.held("a") == 0
    assert r.held("b") == 0
