"""Runs the erp_user module in the Ansible worker (see plugin_utils/inprocess.py).

The module is imported here because Ansible loads action plugins in the controller before
it forks a worker per task and host: every worker then inherits the module, requests and
the collection's module_utils already imported instead of importing them again.
"""
from ansible_collections.ocerra.acumatica.plugins.modules import erp_user  # noqa: F401
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inprocess import InProcessModuleAction as ActionModule  # noqa: F401
