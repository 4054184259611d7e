"""``cc.org(name)``: provisioning accounts and sign-in links through the client, the typed errors
a key that is not an org admin gets, and what the other generations say."""

import uuid

import pytest
import requests

from cocalc_magic import CoCalc
from cocalc_magic.errors import InvalidRequest, NotFound, PermissionDenied


def _cc(srv, key=None):
    return CoCalc(host=srv.url, api_key=key or srv.api_key, api="conat")


def _email():
    return f"{uuid.uuid4().hex[:8]}@example.com"


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_site_admin_provisions_a_class(cocalc_server):
    cc = _cc(cocalc_server)
    name = f"class-{uuid.uuid4().hex[:8]}"
    org = cc.create_org(name)
    assert org.name == name and name in [o.name for o in cc.orgs()]
    org.update(title="Linear Algebra")
    assert org.info().title == "Linear Algebra"
    email = _email()
    student = org.create_user(email, "Ada", "Lovelace")
    assert student.name == "Ada Lovelace" and len(student.account_id) == 36
    assert org.get_or_create_user(email).account_id == student.account_id  # a second run reuses it
    assert [u.email_address for u in org.users()] == [email]
    link = org.sign_in_link(student)
    assert str(link.token) not in repr(link) and "auth_token=…" in repr(link) and "auth_token=" in str(link.url)
    r = requests.get(str(link.url), timeout=30, allow_redirects=False)
    assert r.cookies.get("account_id") == student.account_id
    org.revoke(link)
    assert "unknown or expired token" in requests.get(str(link.url), timeout=30).text
    with pytest.raises(InvalidRequest, match="is taken"):
        cc.create_org(name)
    assert cc.create_org(name, exist_ok=True).name == name


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_org_admin_key_and_member_key(cocalc_server):
    cc = _cc(cocalc_server)
    org = cc.create_org(f"team-{uuid.uuid4().hex[:8]}")
    lead = org.create_user(_email(), "Lead", "Teacher")
    org.add_admin(lead)
    store = cocalc_server.ctx.store
    as_lead = _cc(cocalc_server, store.create_api_key(lead.account_id, name="lead")[1]).org(org.name)
    pupil = as_lead.create_user(_email(), "Pupil", password="a-secret-pw-123")
    assert as_lead.sign_in_link(pupil).user == pupil.account_id
    with pytest.raises(PermissionDenied, match="not a site admin") as site:
        _cc(cocalc_server, store.create_api_key(lead.account_id, name="lead2")[1]).create_org("nope-" + org.name)
    assert "site admin" in site.value.hint
    as_pupil = _cc(cocalc_server, store.create_api_key(pupil.account_id, name="p")[1]).org(org.name)
    with pytest.raises(PermissionDenied, match="not an admin of organization") as err:
        as_pupil.create_user(_email(), password="another-secret-pw")
    assert "admin of this organization" in str(err.value)
    assert "another-secret-pw" not in str(err.value)
    with pytest.raises(PermissionDenied):
        as_pupil.sign_in_link(pupil)


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_typed_not_found_and_not_a_member(cocalc_server):
    cc = _cc(cocalc_server)
    with pytest.raises(NotFound, match="there is no organization"):
        cc.org(f"missing-{uuid.uuid4().hex[:8]}").info()
    org = cc.create_org(f"t-{uuid.uuid4().hex[:8]}")
    with pytest.raises(InvalidRequest, match="not in any organization"):
        org.sign_in_link(cocalc_server.account_id)  # the admin is in no org


@pytest.mark.parametrize("cocalc_server", ["v1"], indirect=True)
def test_v1_has_no_organizations(cocalc_server):
    from cocalc_magic.errors import NotSupported

    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key, api="v1")
    with pytest.raises(NotSupported, match="organizations"):
        cc.org("acme").users()


@pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)
def test_cocalc_ai_keys_have_no_organizations(cocalc_server):
    from cocalc_magic.errors import NotSupported

    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    assert cc.api == "ai"
    with pytest.raises(NotSupported, match="org.getUsers"):
        cc.org("acme").users()
    with pytest.raises(NotSupported, match="org.createToken"):
        cc.org("acme").sign_in_link("ada@example.org")
