"""The User entity of UserAdmin/1.0.0: records (§6), queries and upserts (§5, §7)."""
import uuid

import pytest

from tests.sandbox.acumatica_helpers import (API_PW, CANARY, FULL, LIMITED, NEW_PW, Client,
                                             admin, site_seed, user, wrap)

ERRORS = "'Users' record raised at least one error. Please review the errors."


@pytest.fixture
def seed():
    return site_seed(installed=True, users=[user("Locked", locked=True),
                                            user("Empty", password=None)])


def record(client, name, **params):
    answer = client.users(f"/{name}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def signs_in(sandbox, name, password):
    client = Client(sandbox)
    ok = client.login(name, password).status_code == 204
    if ok:
        client.logout()
    return ok


def new_user(**fields):
    base = {"Username": "NewApi", "Email": "new@example.com", "LoginTypeID": "API User",
            "GeneratePassword": False, "Password": NEW_PW}
    return wrap(**{**base, **fields})


def test_record_shape(sandbox):
    rec = record(admin(sandbox), "OcerraAPI")
    assert str(uuid.UUID(rec["id"])) == rec["id"] and rec["rowNumber"] == 1
    assert rec["note"] == {"value": None} and rec["custom"] == {}
    assert rec["Username"] == {"value": "OcerraAPI"}
    assert rec["Email"] == {"value": "OcerraAPI@example.com"}
    assert rec["IsApproved"] == {"value": True} and rec["State"] == {"value": "Active"}
    assert rec["LoginTypeID"] == {"value": "API User"}
    assert rec["FailedPasswordAttemptCount"] == {"value": 0}
    assert "Password" not in rec and "Roles" not in rec and "LicenseTypes" not in rec


def test_get_by_id_and_unknown_key(sandbox):
    client = admin(sandbox)
    rec = record(client, "OcerraAPI")
    assert record(client, rec["id"])["Username"] == {"value": "OcerraAPI"}
    missing = client.users("/Nobody")
    assert missing.status_code == 500
    assert missing.json()["exceptionMessage"] == "No entity satisfies the condition."
    assert missing.json()["exceptionType"].endswith("NoEntitySatisfiesTheConditionException")


def test_state_labels_codes_locked_and_online(sandbox):
    client = admin(sandbox)
    assert record(client, "Locked")["State"] == {"value": "Temporarily Locked"}
    assert record(client, "admin")["State"] == {"value": "Online"}
    sandbox.erp.set_switches({"state_format": "codes"})
    assert record(client, "Locked")["State"] == {"value": "L"}
    assert record(client, "OcerraAPI")["State"] == {"value": "A"}


def test_list_filter_top_skip_select(sandbox):
    client = admin(sandbox)
    everyone = client.users().json()
    assert [r["rowNumber"] for r in everyone] == list(range(1, len(everyone) + 1))
    assert len(everyone) == 4
    one = client.users(params={"$filter": "Username eq 'ocerraapi'"}).json()
    assert [r["Username"]["value"] for r in one] == ["OcerraAPI"]
    others = client.users(params={"$filter": "Username ne 'OcerraAPI' and IsApproved eq true"})
    assert len(others.json()) == 3
    assert len(client.users(params={"$top": "2"}).json()) == 2
    assert len(client.users(params={"$skip": "3"}).json()) == 1
    picked = client.users(params={"$select": "Username,Email", "$top": "1"}).json()[0]
    assert set(picked) == {"id", "rowNumber", "note", "custom", "_links", "Username", "Email"}


@pytest.mark.parametrize("params", [{"$select": "Nope"}, {"$expand": "Nope"},
                                    {"$expand": "Email"}, {"$filter": "Nope eq 'x'"}])
def test_unknown_names_are_key_not_found(sandbox, params):
    answer = admin(sandbox).users(params=params)
    assert answer.status_code == 500
    assert answer.json()["exceptionType"] == "System.Collections.Generic.KeyNotFoundException"


def test_filter_on_a_date_needs_a_typed_literal(sandbox):
    client = admin(sandbox)
    untyped = client.users(params={"$filter": "LastLoginDate eq null"})
    assert untyped.status_code == 500
    assert untyped.json()["exceptionMessage"] == "Filtering on the date field 'LastLoginDate' is not supported."
    assert client.users(params={"$filter": "LastLoginDate gt '2020-01-01'"}).status_code == 500
    since = client.users(params={"$filter": "LastLoginDate gt datetimeoffset'2000-01-01T00:00:00Z'"})
    assert names(since) == ["admin"]              # the only user signed in so far
    before = client.users(params={"$filter": "not (LastLoginDate ge datetime'2000-01-01T00:00:00')"})
    assert "admin" not in names(before)


def names(answer):
    assert answer.status_code == 200, answer.text
    return [r["Username"]["value"] for r in answer.json()]


@pytest.mark.parametrize("expr,expected", [
    ("Username eq 'OcerraAPI' or Username eq 'admin'", ["admin", "OcerraAPI"]),
    ("not (Username eq 'admin') and IsApproved eq true", ["OcerraAPI", "Locked", "Empty"]),
    ("(Username eq 'admin' or Username eq 'Locked') and IsApproved eq true", ["admin", "Locked"]),
    ("startswith(Username, 'ocer')", ["OcerraAPI"]),
    ("endswith(Username,'API') eq true", ["OcerraAPI"]),
    ("substringof('ock', Username)", ["Locked"]),
    ("AllowedSessions ge 2 and AllowedSessions lt 6", ["admin"]),
    ("FailedPasswordAttemptCount gt 0", ["Locked"]),
    ("Username gt 'M'", ["OcerraAPI"]),
    ("cf.String(f='UserList.Email') eq 'ocerraapi@example.com'", ["OcerraAPI"]),
    ("cf.Boolean(f='UserList.PasswordNeverExpires') eq true and Username ne 'Empty'",
     ["admin", "OcerraAPI", "Locked"]),
    ("cf.Boolean(f='UserList.PasswordNeverExpires') eq false", []),
    ("Username eq 'it''s'", []),
])
def test_filter_dialect(sandbox, expr, expected):
    client = admin(sandbox)
    assert sorted(names(client.users(params={"$filter": expr}))) == sorted(expected)


def test_typed_literals_are_checked(sandbox):
    client = admin(sandbox)
    some_guid = "9f2a0a2e-5c43-4f7e-9a52-2f0c1b1d6c11"
    assert names(client.users(params={"$filter": f"Username eq guid'{some_guid}'"})) == []
    for bad in ("Username eq guid'not-a-guid'", "LastLoginDate gt datetimeoffset'yesterday'",
                "LastLoginDate gt date'2024-13-01'"):
        assert client.users(params={"$filter": bad}).status_code == 400, bad


@pytest.mark.parametrize("expr", [
    "Username eq", "Username like 'a'", "Username eq 'a' xor true", "tolower(Username) eq 'a'",
    "(Username eq 'a'", "Username in ('a')", "Username eq 'a')", "cf.Text(f='UserList.Email') eq 'a'",
    "Username add 1", "Username eq 'a' #", "(" * 60 + "true" + ")" * 60])
def test_filter_outside_the_dialect_is_400(sandbox, expr):
    answer = admin(sandbox).users(params={"$filter": expr})
    assert answer.status_code == 400, expr
    assert answer.json()["exceptionMessage"].startswith("The query specified in the URI is not valid.")


@pytest.mark.parametrize("expr", ["Roles eq 'x'", "Username/Nope eq 'x'",
                                  "cf.String(f='UserList.Nope') eq 'x'",
                                  "cf.String(f='UserList.Password') eq 'x'"])
def test_filter_on_what_the_endpoint_lacks_is_key_not_found(sandbox, expr):
    answer = admin(sandbox).users(params={"$filter": expr})
    assert answer.status_code == 500
    assert answer.json()["exceptionType"] == "System.Collections.Generic.KeyNotFoundException"


def test_put_by_filter_updates_the_record_it_selects(sandbox):
    client = admin(sandbox)
    answer = client.put_user(wrap(FirstName="Filtered"),
                             params={"$filter": "Username eq 'ocerraapi'"})
    assert answer.status_code == 200, answer.text
    assert record(client, "OcerraAPI")["FirstName"] == {"value": "Filtered"}
    none = client.put_user(wrap(FirstName="x"), params={"$filter": "Username eq 'nobody'"})
    assert none.status_code == 500
    assert none.json()["exceptionMessage"] == "No entity satisfies the condition."
    assert len(client.users().json()) == 4       # nothing inserted


def test_expand_details(sandbox):
    rec = record(admin(sandbox, "UserAdminMyob"), "OcerraAPI", **{"$expand": "Roles,LicenseTypes"})
    roles = {r["Rolename"]["value"]: r["Selected"]["value"] for r in rec["Roles"]}
    assert roles == {"AP Clerk": True, "AR Clerk": False}    # every role its type allows
    assert all(str(uuid.UUID(r["id"])) == r["id"] for r in rec["Roles"])
    licences = {r["LicenseType"]["value"]: r for r in rec["LicenseTypes"]}
    assert licences[FULL]["Selected"] == {"value": True}
    assert licences[FULL]["Available"] == {"value": 20 - 4}   # admin, OcerraAPI, Locked, Empty
    assert licences[LIMITED]["Available"] == {"value": 1}
    assert licences["Self Service User"]["Available"] == {"value": None}


def test_user_form_needs_the_administrator_role(sandbox):
    client = Client(sandbox)
    assert client.login("OcerraAPI", API_PW).status_code == 204
    answer = client.users()
    assert answer.status_code == 403
    assert answer.json()["exceptionMessage"] == \
        "You have insufficient rights to access the Users (SM201010) form."


def test_insert_with_given_password(sandbox):
    client = admin(sandbox, "UserAdminMyob")
    answer = client.put_user({**new_user(), "LicenseTypes": [wrap(LicenseType=FULL, Selected=True)]},
                             params={"$expand": "LicenseTypes"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["Username"] == {"value": "NewApi"} and "Password" not in body
    assert body["LicenseTypes"][0]["LicenseType"] == {"value": FULL}
    assert signs_in(sandbox, "NewApi", NEW_PW)


def test_insert_generates_a_password_by_default(sandbox):
    client = admin(sandbox, "UserAdminMyob")
    body = new_user()
    del body["GeneratePassword"]
    answer = client.put_user({**body, "LicenseTypes": [wrap(LicenseType=FULL, Selected=True)]})
    assert answer.status_code == 200
    assert not signs_in(sandbox, "NewApi", NEW_PW)
    users = sandbox.erp.state()["instances"][0]["tenants"][0]["users"]
    assert next(u for u in users if u["username"] == "NewApi")["has_password"]


@pytest.mark.parametrize("password,text", [
    ("Short1a", "The password length must be at least 14 characters."),
    ("alllowercase12345", "The password is not complex."),
    ("ALLUPPERCASEONLYX", "The password is not complex.")])
def test_insert_policy_errors_are_422(sandbox, password, text):
    answer = admin(sandbox).put_user(new_user(Password=password))
    assert answer.status_code == 422
    body = answer.json()
    assert body["Password"]["error"].startswith(text)
    assert body["Password"]["value"] is None
    assert body["error"] == "Inserting  " + ERRORS


def test_acumatica_three_of_four_policy(sandbox):
    sandbox.reset(seed=site_seed(installed=True, security={"min_length": 8,
                                                           "complexity": "acumatica3of4"}))
    client = admin(sandbox)
    assert client.put_user(new_user(Password="abcdefgh12")).status_code == 422
    assert client.put_user(new_user(Password="abcdefG1")).status_code == 200


def test_a_rejected_password_never_comes_back(sandbox):
    answer = admin(sandbox).put_user(new_user(Password=CANARY[:6]))
    assert answer.status_code == 422 and CANARY[:6] not in answer.text


@pytest.mark.parametrize("fields,field,text", [
    ({"Email": None}, "Email", "'Email' cannot be empty."),
    ({"LoginTypeID": "Robot"}, "LoginTypeID", "'Robot' cannot be found in the system."),
    ({"GeneratePassword": False, "Password": None}, "Password", "'Password' cannot be empty.")])
def test_insert_field_errors(sandbox, fields, field, text):
    answer = admin(sandbox).put_user(new_user(**fields))
    assert answer.status_code == 422
    assert answer.json()[field]["error"] == text
    assert admin(sandbox).users("/NewApi").status_code == 500     # nothing stored


def test_preconditions(sandbox):
    client = admin(sandbox)
    exists = client.put_user(wrap(Username="OcerraAPI", FirstName="X"),
                             headers={"If-None-Match": "*"})
    assert exists.status_code == 412
    missing = client.put_user(new_user(), headers={"If-Match": "*"})
    assert missing.status_code == 412
    assert client.users("/NewApi").status_code == 500
    assert client.put_user(new_user(), headers={"If-None-Match": "*"}).status_code == 200


def test_update_by_key_and_by_id(sandbox):
    client = admin(sandbox)
    answer = client.put_user(wrap(Username="OcerraAPI", FirstName="Oc", IsApproved=True,
                                  note="kept"))
    assert answer.status_code == 200
    assert answer.json()["FirstName"] == {"value": "Oc"} and "LastName" not in answer.json()
    rec = record(client, "OcerraAPI")
    assert rec["note"] == {"value": "kept"}
    renamed = client.put_user({"id": rec["id"], **wrap(Username="OcerraAPI2")})
    assert renamed.status_code == 200
    assert record(client, "OcerraAPI2")["FirstName"] == {"value": "Oc"}


def test_rename_to_an_existing_login_is_422(sandbox):
    client = admin(sandbox)
    rec = record(client, "OcerraAPI")
    answer = client.put_user({"id": rec["id"], **wrap(Username="admin")})
    assert answer.status_code == 422
    assert answer.json()["Username"]["error"] == "The entered login already exists."
    assert answer.json()["error"] == "Updating  " + ERRORS


def test_password_on_update_is_ignored_unless_empty(sandbox):
    client = admin(sandbox)
    assert client.put_user(wrap(Username="OcerraAPI", Password=NEW_PW)).status_code == 200
    assert signs_in(sandbox, "OcerraAPI", API_PW) and not signs_in(sandbox, "OcerraAPI", NEW_PW)
    # A user whose stored password is empty takes it (§5.4).
    assert client.put_user(wrap(Username="Empty", Password=NEW_PW)).status_code == 200
    assert signs_in(sandbox, "Empty", NEW_PW)


def test_password_on_update_applied_switch(sandbox):
    sandbox.erp.set_switches({"password_on_update": "applied"})
    client = admin(sandbox)
    weak = client.put_user(wrap(Username="OcerraAPI", Password="weak"))
    assert weak.status_code == 422 and weak.json()["Password"]["error"]
    assert client.put_user(wrap(Username="OcerraAPI", Password=NEW_PW)).status_code == 200
    assert signs_in(sandbox, "OcerraAPI", NEW_PW)


def test_roles_are_set_through_existing_rows(sandbox):
    client = admin(sandbox)
    body = {**wrap(Username="OcerraAPI"),
            "Roles": [wrap(Rolename="AR Clerk", Selected=True),
                      wrap(Rolename="AP Clerk", Selected=False)]}
    answer = client.put_user(body)
    assert answer.status_code == 200
    assert "Roles" not in answer.json()      # detail rows only when expanded (contract v4)
    answer = client.put_user(body, params={"$expand": "Roles"})
    shown = {r["Rolename"]["value"]: r["Selected"]["value"] for r in answer.json()["Roles"]}
    assert shown == {"AP Clerk": False, "AR Clerk": True}
    rec = record(client, "OcerraAPI", **{"$expand": "Roles"})
    assert {r["Rolename"]["value"] for r in rec["Roles"] if r["Selected"]["value"]} == {"AR Clerk"}
    by_id = {"id": rec["id"], "Roles": [{"id": rec["Roles"][0]["id"], **wrap(Selected=True)}]}
    assert client.put_user(by_id).status_code == 200
    rec = record(client, "OcerraAPI", **{"$expand": "Roles"})
    assert all(r["Selected"]["value"] for r in rec["Roles"])


@pytest.mark.parametrize("row,text", [
    (wrap(Rolename="Administrator", Selected=True),
     "The role 'Administrator' is not available for the user type 'API User'."),
    ({**wrap(Rolename="AP Clerk"), "delete": True},
     "Rows cannot be deleted from Roles; set Selected to false instead.")])
def test_role_rows_cannot_be_added_or_deleted(sandbox, row, text):
    answer = admin(sandbox).put_user({**wrap(Username="OcerraAPI"), "Roles": [row]})
    assert answer.status_code == 422
    assert answer.json()["Roles"][0]["Rolename"]["error"] == text


def test_roles_membership_not_durable_switch(sandbox):
    sandbox.erp.set_switches({"roles_membership_durable": False})
    client = admin(sandbox)
    answer = client.put_user({**wrap(Username="OcerraAPI"),
                              "Roles": [wrap(Rolename="AR Clerk", Selected=True)]},
                             params={"$expand": "Roles"})
    assert answer.status_code == 200
    assert any(r["Rolename"]["value"] == "AR Clerk" and r["Selected"]["value"]
               for r in answer.json()["Roles"])
    rec = record(client, "OcerraAPI", **{"$expand": "Roles"})
    assert {r["Rolename"]["value"] for r in rec["Roles"] if r["Selected"]["value"]} == {"AP Clerk"}


def test_licence_seats_are_counted(sandbox):
    client = admin(sandbox, "UserAdminMyob")
    take = {**wrap(Username="OcerraAPI"), "LicenseTypes": [wrap(LicenseType=LIMITED,
                                                                Selected=True)]}
    answer = client.put_user(take, params={"$expand": "LicenseTypes"})
    assert answer.status_code == 200
    row = next(r for r in answer.json()["LicenseTypes"] if r["LicenseType"]["value"] == LIMITED)
    assert row["Available"] == {"value": 0}
    full = client.put_user({**wrap(Username="Locked"), "LicenseTypes": [
        wrap(LicenseType=LIMITED, Selected=True)]})
    assert full.status_code == 422
    assert full.json()["LicenseTypes"][0]["Selected"]["error"] == \
        "No licenses of the 'Limited API' type are available."
    release = {**wrap(Username="OcerraAPI"), "LicenseTypes": [wrap(LicenseType=LIMITED,
                                                                   Selected=False)]}
    assert client.put_user(release).status_code == 200
    assert client.put_user({**wrap(Username="Locked"), "LicenseTypes": [
        wrap(LicenseType=LIMITED, Selected=True)]}).status_code == 200


def test_unknown_licence_type_is_422(sandbox):
    answer = admin(sandbox, "UserAdminMyob").put_user({**wrap(Username="OcerraAPI"), "LicenseTypes": [
        wrap(LicenseType="Gold", Selected=True)]})
    assert answer.status_code == 422
    assert answer.json()["LicenseTypes"][0]["LicenseType"]["error"] == \
        "The license type 'Gold' does not exist."


def test_put_of_unknown_field_or_bad_type(sandbox):
    client = admin(sandbox)
    unknown = client.put_user(wrap(Username="OcerraAPI", Nickname="x"))
    assert unknown.status_code == 500 and "Nickname" in unknown.json()["exceptionMessage"]
    assert client.put_user(wrap(Username="OcerraAPI", IsApproved="yes")).status_code == 400
    assert client.put_user({"Username": "OcerraAPI"}).status_code == 400


def test_change_on_next_login_defaults_from_the_user_type(sandbox):
    seed = site_seed(installed=True)
    seed["acumatica"]["instances"][0]["tenants"][0]["user_types"][1][
        "password_change_on_next_login"] = True
    sandbox.reset(seed=seed)
    client = admin(sandbox)
    assert client.put_user(new_user()).status_code == 200
    assert record(client, "NewApi")["PasswordChangeOnNextLogin"] == {"value": True}


def test_delete_and_ad_hoc_schema(sandbox):
    client = admin(sandbox)
    schema = client.users("/$adHocSchema").json()
    assert schema["Username"] == {"value": None} and "Rolename" in schema["Roles"][0]
    assert client.http.delete(client.url("entity/UserAdmin/1.0.0/User/OcerraAPI")).status_code == 204
    assert client.users("/OcerraAPI").status_code == 500


def test_default_endpoint_entities_are_empty(sandbox):
    client = admin(sandbox)
    assert client.get("entity/Default/24.200.001/Vendor").json() == []
    assert client.get("entity/Default/24.200.001/User").status_code == 404
    assert client.get("entity/Default/25.200.001/Vendor").status_code == 404


def test_a_user_type_s_default_roles_come_with_an_insert_and_a_type_change(sandbox):
    seed = site_seed(installed=True)
    types = seed["acumatica"]["instances"][0]["tenants"][0]["user_types"]
    types[1]["default_roles"] = ["AR Clerk"]                    # API User
    types[0]["default_roles"] = ["AP Clerk"]                    # Admin
    sandbox.reset(seed=seed)
    client = admin(sandbox)
    assert client.put_user({**new_user(), "Roles": [wrap(Rolename="AP Clerk", Selected=True)]}).status_code == 200

    def roles():
        return next(sorted(u["roles"]) for u in sandbox.erp.state()["instances"][0]["tenants"][0]["users"]
                    if u["username"] == "NewApi")
    assert roles() == ["AP Clerk", "AR Clerk"]
    # Unselected in the same request: the explicit row wins.
    assert client.put_user({**wrap(Username="NewApi"), "Roles": [wrap(Rolename="AR Clerk", Selected=False)]}
                           ).status_code == 200
    assert roles() == ["AP Clerk"]
    assert client.put_user(wrap(Username="NewApi", LoginTypeID="API User")).status_code == 200
    assert roles() == ["AP Clerk"]                              # the same type: nothing added
    assert client.put_user(wrap(Username="NewApi", LoginTypeID="Admin")).status_code == 200
    assert roles() == ["AP Clerk"]                              # AR Clerk is not an Admin role
    assert client.put_user(wrap(Username="NewApi", LoginTypeID="API User")).status_code == 200
    assert roles() == ["AP Clerk", "AR Clerk"]


def test_default_roles_must_be_among_the_type_s_roles(sandbox):
    seed = site_seed()
    seed["acumatica"]["instances"][0]["tenants"][0]["user_types"][1]["default_roles"] = ["Administrator"]
    with pytest.raises(Exception, match="default_roles must be among its roles"):
        sandbox.reset(seed=seed)


@pytest.mark.parametrize("flavour,switch,want", [("myob", None, 1), ("acumatica", None, 5),
                                                 ("acumatica", 2, 2)])
def test_allowed_sessions_reads_its_default(sandbox, flavour, switch, want):
    """Empty on Acumatica: the licence's API-user count (site_seed's licence: 5)."""
    sandbox.reset(site_seed(installed=True, flavour=flavour,
                            switches={"allowed_sessions_default": switch}))
    client = admin(sandbox)
    assert record(client, "OcerraAPI")["AllowedSessions"] == {"value": want}
    assert record(client, "admin")["AllowedSessions"] == {"value": 5}     # its type's cap
    assert client.put_user(wrap(Username="OcerraAPI", AllowedSessions=4)).status_code == 200
    assert record(client, "OcerraAPI")["AllowedSessions"] == {"value": 4}


def test_patch_updates_only_what_exists(sandbox):
    client = admin(sandbox)
    url = client.url("entity/UserAdmin/1.0.0/User")
    answer = client.http.patch(url, json=wrap(Username="OcerraAPI", LastName="Patched"), timeout=10)
    assert answer.status_code == 200, answer.text
    assert record(client, "OcerraAPI")["LastName"] == {"value": "Patched"}
    missing = client.http.patch(url, json=new_user(), timeout=10)
    assert missing.status_code == 500
    assert missing.json()["exceptionMessage"] == "No entity satisfies the condition."
    assert len(client.users().json()) == 4


@pytest.mark.parametrize("verb,path", [("POST", "entity/UserAdmin/1.0.0/User"),
                                       ("DELETE", "entity/UserAdmin/1.0.0/User"),
                                       ("PUT", "entity/auth/login"),
                                       ("TRACE", "entity/UserAdmin/1.0.0/User")])
def test_unknown_verbs_answer_as_web_api_does(sandbox, verb, path):
    client = admin(sandbox)
    answer = client.http.request(verb, client.url(path), timeout=10)
    assert answer.status_code == 405
    assert answer.json() == {"message": f"The requested resource does not support http method '{verb}'."}
    assert answer.headers["Allow"]


def test_records_carry_links_and_files_when_expanded(sandbox):
    client = admin(sandbox)
    rec = record(client, "OcerraAPI")
    base = f"/acme/entity/UserAdmin/1.0.0/User/{rec['id']}"
    assert rec["_links"] == {"self": base, "files:put": base + "/files/{filename}"} and "files" not in rec
    put = client.http.put(client.url(f"entity/UserAdmin/1.0.0/User/{rec['id']}/files/note.txt"),
                          data=b"hello", timeout=10)
    assert put.status_code == 204
    files = record(client, "OcerraAPI", **{"$expand": "files"})["files"]
    assert [f["filename"] for f in files] == ["note.txt"]
    assert client.http.get(sandbox.acumatica_url + files[0]["href"], timeout=10).content == b"hello"
    assert client.users(f"/{rec['id']}", params={"$expand": "files,Roles"}).json()["Roles"]
