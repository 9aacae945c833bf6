"""Platform accounts (账号): users, roles, passwords, web sign-in sessions, rate limits.

Service functions take an open SQLAlchemy session, the acting user (or a "system:"
actor name) and the client address; every state change is written to the audit log
inside the caller's transaction.
"""
