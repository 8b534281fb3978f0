# Copyright: Ocerra Acumatica toolkit team
# MIT License (see LICENSE)
"""Options shared by the Ocerra modules (module_utils.ocerra.client.argument_spec)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  ocerra_url:
    description:
      - Base URL of Ocerra's API, without C(/api).
      - If not set, the environment variable E(OCERRA_URL) is used.
    type: str
    default: https://app.ocerra.com
  ocerra_username:
    description:
      - Login (e-mail) of the Ocerra service user, sent with HTTP Basic authentication.
      - Use a dedicated user without two-factor authentication, with the accountant role on
        every client it manages. Ocerra may lock it after repeated failures, so a rejected
        login is never retried.
      - If not set, the environment variable E(OCERRA_USERNAME) is used.
    type: str
    required: true
  ocerra_password:
    description:
      - Password of the Ocerra service user.
      - If not set, the environment variable E(OCERRA_PASSWORD) is used.
      - Neither it nor the Basic C(Authorization) value derived from it ever appears in output.
    type: str
    required: true
  ocerra_validate_certs:
    description:
      - Verify Ocerra's TLS certificate. Turning it off is warned about.
    type: bool
    default: true
  ocerra_ca_path:
    description:
      - CA bundle (PEM) to verify Ocerra's certificate with, instead of the system's.
      - Unset, the bundle named by E(REQUESTS_CA_BUNDLE) or E(SSL_CERT_FILE) is used when set (a
        corporate CA), else the default one. Proxy environment variables are ignored.
    type: path
  ocerra_client_selection:
    description:
      - How a request chooses the Ocerra client (company) it acts on. Ocerra documents no way
        to do it, so the toolkit supports the candidates.
      - V(query_param) sends C(?clientId=) with each call.
      - V(switch_call) first selects the client with C(POST /api/Client/Switch), which changes
        the service user's current client; run the entities of one service user one at a time.
      - V(auto) sends C(?clientId=) and checks the client of each answer; on the first answer
        for another client it switches to V(switch_call). A save is only sent once a read has
        shown that the selection works.
    type: str
    choices: [auto, query_param, switch_call]
    default: auto
  timeout:
    description:
      - Seconds to wait for each HTTP answer. A save that tests the connection signs in to
        the ERP before it answers.
    type: int
    default: 30
  retry_timeout:
    description:
      - Total seconds to spend waiting between retries of reads (and of requests answered
        with HTTP 429). Saves and connection tests are never retried blindly.
    type: int
    default: 60
notes:
  - Ocerra publishes no API for its MYOB Acumatica settings. The paths these modules use are
    assumptions kept in one adapter (C(plugins/module_utils/ocerra/client.py)); see
    C(docs/ocerra-adapter.md).
requirements:
  - python >= 3.9
  - requests
"""
