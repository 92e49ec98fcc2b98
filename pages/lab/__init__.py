"""The lab's pages: accounts (admins), the team view and the audit log."""
