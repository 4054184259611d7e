"""Names of the API generations."""

from cocalc_magic.client import CoCalc


def test_current_is_another_name_for_conat(cocalc_servers):
    """``current`` was this project's first name for the conat generation: it still works."""
    from cocalc_magic.server import LocalServer

    srv = cocalc_servers("current")
    assert srv.api == "conat" and LocalServer(api="current").api == "conat"
    cc = CoCalc(host=srv.url, api_key=srv.api_key, api="current")
    assert cc.api == "conat" and cc.ping().api == "conat"
    assert CoCalc(host=srv.url, api_key=srv.api_key).api == "conat"  # detected
