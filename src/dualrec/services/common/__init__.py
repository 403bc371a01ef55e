"""Shared by every domain:
who acts (context), the audit log, branch scope, sealed secrets, blind indexes, job kinds.
"""
