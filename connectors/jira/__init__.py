"""The jira connector is declarative: see connector.yaml."""
