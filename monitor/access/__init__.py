"""Who may do what: users, roles, brand scopes (`users`) and the permission policies
(`policies`) that the web UI, the API and the CLI all ask before a workflow operation."""
