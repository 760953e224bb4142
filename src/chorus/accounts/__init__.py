"""Users, workspaces (a brand or a client), teams and role-bearing memberships."""
