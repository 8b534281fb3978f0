"""The child side of the validate fuzz test (test_validate_fuzz.py).

The fork server imports this module once: it runs one validation of the sandbox inventory,
so Ansible's plugin loader and the collection are loaded and warm, and each case's process,
forked from the server, validates its inventory in milliseconds as `./run validate` would.
"""
import contextlib
import io
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = "VALIDATE_FUZZ_SERVER"   # set in the fork server's environment only

if os.environ.get(SERVER):
    os.environ["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from tools import validate
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        validate.main(["inventories/sandbox"])


def validate_into(inventory_dir, output):
    """./run validate INVENTORY_DIR with its output in a file; the process exits with its code
    (70 and the traceback when it raises, which the test then reports)."""
    from tools import validate

    warnings.simplefilter("ignore")   # "collection finder already configured": the warm-up's
    with open(output, "w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = validate.main([inventory_dir])
        except SystemExit as exc:
            code = exc.code
        except BaseException:  # noqa: BLE001 - the test fails on the traceback it finds
            import traceback
            traceback.print_exc()
            code = 70
        out.flush()
    os._exit(code if isinstance(code, int) else 71)
