#!/usr/bin/python
# Copyright: Ocerra Acumatica toolkit team
# MIT License (see galaxy.yml)
"""Write the toolkit's run report (JSON) atomically on the controller."""

DOCUMENTATION = r"""
module: write_report
short_description: Write the toolkit's run report as a JSON file, atomically
version_added: 0.1.0
description:
  - Writes O(report) as indented JSON to O(path) through a temporary file in the same folder
    and a rename, so a reader never sees half a report. Creates the folder when missing.
  - Used by the C(summary) entry point of the C(ocerra.acumatica.site_report) role, delegated
    to the controller. Runs in the Ansible worker (no module process) like the collection's
    API modules.
  - The report holds no secret: it is built from module results, which never return one.
author: Ocerra Acumatica toolkit team
attributes:
  check_mode:
    support: full
    details: Reports whether the file would change and writes nothing.
  diff_mode:
    support: none
options:
  path:
    description: The file to write.
    type: path
    required: true
  report:
    description: The report.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the run's report
  ocerra.acumatica.write_report:
    path: "{{ playbook_dir }}/../out/report.json"
    report: "{{ report }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
path:
  description: The file written.
  type: str
  returned: always
changed:
  description: Whether the file's content changed (or would, in check mode).
  type: bool
  returned: always
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type="path", required=True),
                                              report=dict(type="dict", required=True)),
                           supports_check_mode=True)
    path = module.params["path"]
    text = json.dumps(module.params["report"], indent=2) + "\n"
    try:
        with open(path, encoding="utf-8") as current:
            changed = current.read() != text
    except OSError:
        changed = True
    if changed and not module.check_mode:
        folder = os.path.dirname(path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".json", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            module.fail_json(msg="Cannot write the report to %s: %s" % (path, exc.strerror or exc))
    # The invocation echoes only the path: the report (about 1 KB per site) would otherwise
    # travel back to the controller with the result and stay in its memory.
    module.exit_json(changed=changed, path=path, invocation={"module_args": {"path": path}})


if __name__ == "__main__":
    main()
