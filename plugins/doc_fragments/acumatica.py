"""Documentation of the connection options every Acumatica module shares (acumatica_connection_spec)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the MYOB Acumatica / MYOB Advanced site, with the instance path when there
        is one, for example C(https://acme.myobadvanced.com) or C(http://host/AcumaticaDB).
      - Never a browser URL holding C((W(n\))) or C(Main?CompanyID=).
      - Falls back to the environment variable E(ACUMATICA_URL).
    type: str
    required: true
  tenant:
    description:
      - The tenant (company) to sign in to, as typed in the Tenant box of the sign-in page.
      - Falls back to E(ACUMATICA_TENANT).
    type: str
    required: true
  branch:
    description:
      - Branch to sign in to. The site's default branch of the user when omitted.
    type: str
  admin_user:
    description:
      - The ERP user the toolkit signs in with to manage the API user. Never the API user itself.
      - It needs the Administrator role (Users, SM201010), and the Customizer role to publish
        the User endpoint.
      - Falls back to E(ACUMATICA_ADMIN_USER).
    type: str
    required: true
  admin_password:
    description:
      - Password of O(admin_user). Never logged or returned.
      - A sign-in refused for invalid credentials is not retried, so a typo cannot lock the
        admin out.
      - Falls back to E(ACUMATICA_ADMIN_PASSWORD).
    type: str
    required: true
  validate_certs:
    description:
      - Verify the site's TLS certificate. Turning it off is reported as a warning.
    type: bool
    default: true
  ca_path:
    description:
      - PEM bundle of the CA that signed the site's certificate, for sites with a private CA.
      - Unset, the bundle named by E(REQUESTS_CA_BUNDLE) or E(SSL_CERT_FILE) is used when set (a
        corporate CA), else the default one. Proxy environment variables are ignored.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
  retry_timeout:
    description:
      - Total seconds the module may wait, with jittered back-off honouring C(Retry-After),
        for the site to accept requests again after HTTP 429 (throttling), 502/503/504, a
        dropped connection on a safe request or on the admin's sign-in, or an C(API Login
        Limit) sign-in answer. A sign-in is never retried after an answer about its
        credentials, and a sign-in as the API user (a probe) only when the site cannot have
        checked the password (429, 503, or no connection opened).
      - The wait is reported when it runs out.
    type: int
    default: 60
notes:
  - "The module only talks HTTP from the controller: run it with C(connection: local) or
    C(delegate_to: localhost), one inventory host per site."
  - One admin session is opened per task and signed out on every exit path, because an API
    session that is left open holds one of the licence's few API slots for about ten minutes.
  - Errors name the site (URL and tenant) and the user and say what to do next; they never
    contain a password, a cookie or an Authorization value.
requirements:
  - python >= 3.9
  - requests
"""
