"""The one scrubber both clients, the site flow and the report use."""
import base64
import json
from urllib.parse import quote

from ansible_collections.ocerra.acumatica.plugins.module_utils.secrets import MASK, Secrets, forms


def test_every_form_a_server_could_echo_is_removed():
    secret = 'Can"ary P&ss/1é'
    echoed = (f"raw {secret} json {json.dumps(secret)[1:-1]} utf8-json {json.dumps(secret, ensure_ascii=False)[1:-1]} "
              f"url {quote(secret, safe='')} form {quote(secret, safe='').replace('%20', '+')} "
              f"b64 {base64.b64encode(secret.encode()).decode()}")
    scrubbed = Secrets(secret, None, "").scrub(echoed)
    assert "ary" not in scrubbed and scrubbed.count(MASK) == 6


def test_a_basic_credential_is_removed_whole():
    basic = base64.b64encode(b"svc@x.example:Pw-1234567890!").decode()
    secrets = Secrets()
    secrets.add("Pw-1234567890!", basic_user="svc@x.example")
    assert secrets.scrub(f"Authorization: Basic {basic}") == f"Authorization: Basic {MASK}"
    assert f"Basic {basic}" in secrets and "nothing here" not in secrets


def test_longer_forms_go_first_and_nothing_else_changes():
    secrets = Secrets("abc", "abcdef")
    assert secrets.scrub("x abcdef y abc z") == f"x {MASK} y {MASK} z"
    assert secrets.scrub(None) == "" and forms("a b") >= {"a b", "a%20b", "a+b"}


def test_html_dotnet_json_lower_hex_and_base64url_forms_are_removed():
    secret = "Pw+<x>&'y?~~é-1"
    raw = secret.encode()
    echoed = [
        "Pw+&lt;x&gt;&amp;&#39;y?~~é-1",                                   # ASP.NET HtmlEncode
        "Pw+&lt;x&gt;&amp;&#x27;y?~~é-1",                                  # Python html.escape
        "Pw\\u002Bx".replace("x", "\\u003Cx\\u003E\\u0026\\u0027y?~~\\u00E9-1"),  # System.Text.Json
        quote(secret, safe="").lower().replace("pw", "Pw"),                 # lower-case hex
        base64.urlsafe_b64encode(raw).decode().rstrip("="),                 # JWT-style base64url
        base64.b64encode(raw).decode().rstrip("="),
    ]
    secrets = Secrets(secret)
    for text in echoed:
        assert secrets.scrub("error: %s." % text) == "error: %s." % MASK, text
    nested = secrets.scrub_all({"a": [echoed[0], 3, None], "b": (echoed[2],)})
    assert nested == {"a": [MASK, 3, None], "b": [MASK]}
