"""Exact texts of the fake Acumatica. Labels as in acumatica.md: C confirmed, 3P third-party,
A assumed (ours, to be checked on a real tenant)."""

# Sign-in (§4)
INVALID_CREDENTIALS = "Invalid credentials. Please try again."                         # C
LOCKED_OUT = "Your account is locked out. Please contact your system administrator."   # C
DISABLED = "Your account is disabled. Please contact your system administrator."       # C
PENDING = "Your account is not activated yet. Please contact your system administrator."  # C
NOT_IN_TENANT = ("You are not allowed to log in to the tenant {0}. "
                 "Please contact your system administrator.")                          # C
NO_API_ACCESS = "Current user cannot send API requests."                               # C
CHANGE_PASSWORD = ("You need to change your password. "
                   "Sign in by using your browser to set a new password.")             # 3P
# Only "API Login Limit" is known (C/3P); the rest of both sentences is A.
LICENCE_LIMIT = "API Login Limit: the maximum number of concurrent API users has been reached."
USER_LIMIT = "API Login Limit: the user {0} has reached the maximum number of concurrent sessions."
# The same limit as a MYOB site's error page shows it, in Error.aspx's message= (FG, MB): the
# words "API Login Limit" are not in it; the elided middle of the sentence is A.
CONCURRENT_LOGINS = "The number of concurrent API logins for this license has been reached."
# MYOB: a user without a licence type cannot sign in (C, MYOB KB); the text is A, modelled
# on the guest-user text, with the product name of switch message_brand.
NO_LICENCE = ("Your account does not have a license type that allows access to the {0}. "
              "Please contact your system administrator.")
UNKNOWN_COMPANY = "A proper company ID cannot be determined"                            # 3P
BOTH_TENANT_AND_COMPANY = "Specify either the tenant or the company, not both."          # A
NOT_LOGGED_IN = "The user is not logged in to the system"                               # C
INSUFFICIENT_RIGHTS = "You have insufficient rights to access the {0} ({1}) form."      # C

# Contract API (§6, §7)
NO_ENTITY = "No entity satisfies the condition."                                        # 3P
KEY_NOT_FOUND = "The given key '{0}' was not present in the dictionary."                # 3P (.NET)
NO_RESOURCE = "No HTTP resource was found that matches the request URI '{0}'."          # A (Web API)
NO_VERB = "The requested resource does not support http method '{0}'."                   # A (Web API)
BAD_QUERY = "The query specified in the URI is not valid. {0}"                          # A (OData)
DATE_FILTER = "Filtering on the date field '{0}' is not supported."                     # A (3P: a 500)
RECORD_ERRORS = "{0}  'Users' record raised at least one error. Please review the errors."  # 3P
EMPTY = "'{0}' cannot be empty."                                                        # C
NOT_FOUND_IN_SYSTEM = "'{0}' cannot be found in the system."                            # C (selector)
LOGIN_EXISTS = "The entered login already exists."                                     # C
ROLE_NOT_ALLOWED = "The role '{0}' is not available for the user type '{1}'."            # A
ROW_NOT_DELETABLE = "Rows cannot be deleted from {0}; set Selected to false instead."    # A
NO_SEATS = "No licenses of the '{0}' type are available."                               # A
UNKNOWN_LICENCE = "The license type '{0}' does not exist."                               # A
PRECONDITION_EXISTS = "The entity already exists."                                       # A
PRECONDITION_MISSING = "The entity does not exist."                                      # A
THROTTLE_TEXT = "The custom error module does not recognize this error."                 # 3P
THROTTLE_JSON = "The request limit of the license has been exceeded. Try again later."   # A
LENGTH_REQUIRED = "<h1>Length Required</h1>"                                             # 3P (IIS)

# Password policy (§8)
MIN_LENGTH = "The password length must be at least {0} characters."                      # C
NOT_COMPLEX = "The password is not complex."                                             # C
COMPLEXITY_3OF4 = (" The password must contain characters from at least three of the following"
                   " categories: uppercase letters, lowercase letters, digits, and"
                   " non-alphanumeric characters.")                                      # A wording
COMPLEXITY_MYOB = (" The password must contain at least one uppercase letter, one lowercase"
                   " letter, and one digit or symbol.")                                  # A wording

# Actions (§5.3)
PASSWORD_MISMATCH = "The entered password doesn't match the confirmation."               # C
RESET_REFUSED = ("The user has not been found or is locked out. "
                 "The password has not been reset.")                                     # C
DISABLE_SELF = "You cannot disable your own user account."                               # C
# An action the user's state does not allow (PXActionDisabledException, code); the button
# captions are A but "Unlock User" (reference, Fidelity second pass).
BUTTON_DISABLED = "The {0} button is disabled."
BUTTONS = {"UnlockLogin": "Unlock User", "EnableLogin": "Enable User", "DisableLogin": "Disable User",
           "ActivateLogin": "Activate User"}

# Customization API (§10)
INVALID_PROJECT_NAME = "Invalid project name"                                            # 3P
PROJECT_NOT_FOUND = "The project is not found: {0}"                                      # 3P
UNKNOWN_ROOT = "Unknown root node"                                                       # 3P
PROJECT_EXISTS = "The project {0} already exists."                                       # A
PROJECT_PUBLISHED = "The project {0} is published and cannot be deleted."                # A
PUBLISH_LOCKED = "Another publication is in progress. Try again when it has finished."   # A
PUBLISH_FAILED = "Publishing failed: the website could not be updated."                  # A
PUBLISH_INBAND = "Validation of the customization project finished with errors."         # A
NO_PUBLICATION = "No publication is in progress."                                        # A
# An endpoint mapping MYOB's License Types view on plain Acumatica, which has no such view
# (reference, Fidelity second pass: the publish fails, or the tenant's contract API breaks).
NO_SUCH_VIEW = "The view {0} of the screen {1} cannot be found in the graph PX.SM.AccessUsers."  # A
BROKEN_METADATA = "Object reference not set to an instance of an object."                 # A (.NET)

STATE_LABELS = {"A": "Active", "O": "Online", "D": "Disabled", "L": "Temporarily Locked",
                "P": "Pending Activation"}                                               # C

# What a site asking to confirm "Password Never Expires" says (A: MYOB's help mentions a
# confirmation; its text through the contract API is unknown).
CONFIRM_NEVER_EXPIRES = "Please confirm that the password of this user will never expire."
