"""Runs the write_report module in the Ansible worker (see plugin_utils/inprocess.py)."""
from ansible_collections.ocerra.acumatica.plugins.plugin_utils.inprocess import InProcessModuleAction as ActionModule  # noqa: F401
