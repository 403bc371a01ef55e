"""Who may do what:
login and sessions, users, roles, branches, API keys, passwords, the first administrator.
"""
