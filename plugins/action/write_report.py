"""Runs the write_report module in the Ansible worker (see plugin_utils/inprocess.py and the
note in erp_user.py on why the module is imported here)."""
from ansible_collections.ocerra.acumatica.plugins.modules import write_report  # noqa: F401
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inprocess import InProcessModuleAction as ActionModule  # noqa: F401
