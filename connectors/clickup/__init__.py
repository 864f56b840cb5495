"""The ClickUp connector: everything is declared in connector.yaml."""
